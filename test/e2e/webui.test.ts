/**
 * `pybackup web` end to end: the real CLI serves the UI, a real headless Chromium (Debian's, through playwright-core)
 * uses it — overview, browsing, file details and history with a diff, search, downloads (a file byte-exact, a
 * directory as zip checked with python3 zipfile), a restore with progress compared against the source — plus the
 * token refusal, path tricks in URLs, CSRF refusal, a screenshot under test-artifacts/, and a clean Ctrl-C (130).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { ROOT, Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, writeRandomFile } from './helpers.ts';

/** A raw request (no URL normalization, unlike fetch), with the token as a Bearer header unless `token` is ''. */
function rawGet(base: URL, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, method: 'GET', headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('web UI in headless Chromium', async (t) => {
  const sb = await Sandbox.create(t);
  const src = sb.src;
  const dir = join(src, 'dir');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
  writeFileSync(join(dir, 'text.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, '<b>odd & "name"'), 'markup in a name\n');
  writeFileSync(join(dir, 'sub', 'deep.txt'), 'deep\n');
  writeRandomFile(join(dir, 'big.bin'), 3 << 20);
  await sb.backup([src]);
  lines[4] = 'line 5 <changed>';
  writeFileSync(join(dir, 'text.txt'), `${lines.join('\n')}\n`);
  await sb.backup([src]);

  assertExit(await sb.cli(['check']), 0, 'check (the overview shows its outcome)');
  const child = sb.spawn(['web']);
  const done = collect(child, { keepStdinOpen: true, timeoutMs: 300_000 });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', () => reject(new Error(`pybackup web exited early: ${out}`)));
  });
  const base = new URL(url);
  const token = base.searchParams.get('token') as string;
  const origin = `http://${base.host}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu'] });
  t.after(async () => {
    await browser.close().catch(() => {});
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ctx = await browser.newContext({ acceptDownloads: true });
  const page = await ctx.newPage();
  const artifacts = join(ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });

  await t.test('no token: 401; path tricks: 400', async () => {
    assert.equal(await rawGet(base, '/', ''), 401);
    assert.equal(await rawGet(base, '/snapshots?token=wrong', ''), 401);
    for (const p of ['/../etc/passwd', '/browse/../x', '/%2e%2e/etc/passwd', '/browse%2F..%2F', '//browse', '/browse\\..']) assert.equal(await rawGet(base, p, token), 400, p);
    assert.equal(await rawGet(base, `/browse?snap=latest&p=%00`, token), 400);
  });

  await t.test('overview, then browse into a directory', async () => {
    await page.goto(url);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
    const cookies = await ctx.cookies();
    assert.ok(cookies.some((c) => c.httpOnly && c.sameSite === 'Strict' && c.value === token));
    assert.match(await page.title(), /Overview/);
    const text = await page.locator('main').innerText();
    assert.match(text, /Repository ID/);
    assert.match(text, /Snapshots\s+2 from 1 host/);
    assert.match(text, /Deduplication ratio/);
    assert.match(text, /Last check\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(no errors\)/);
    await page.screenshot({ path: join(artifacts, 'webui-overview.png'), fullPage: true });
    await page.locator('main table a.mono').first().click();
    for (const part of src.split('/').filter(Boolean)) await page.getByRole('link', { name: `${part}/`, exact: true }).click();
    await page.getByRole('link', { name: 'dir/', exact: true }).click();
    assert.match(await page.locator('h1').innerText(), /\/dir$/);
    // the odd name is text, not markup
    assert.equal(await page.locator('main td b').count(), 0);
    assert.equal(await page.getByRole('link', { name: '<b>odd & "name"', exact: true }).count(), 1);
    await page.screenshot({ path: join(artifacts, 'webui-browse.png'), fullPage: true });
  });

  await t.test('file details, history and a diff', async () => {
    await page.getByRole('link', { name: 'text.txt', exact: true }).click();
    const main = await page.locator('main').innerText();
    assert.match(main, /Content blobs\s+1/);
    assert.match(main, /present in 2 of 2 snapshots/);
    await page.getByRole('link', { name: 'diff', exact: true }).click();
    assert.deepEqual(await page.locator('pre.diff span.del').allInnerTexts(), ['-line 5']);
    assert.deepEqual(await page.locator('pre.diff span.add').allInnerTexts(), ['+line 5 <changed>']);
    await page.screenshot({ path: join(artifacts, 'webui-diff.png'), fullPage: true });
    await page.goBack();
  });

  await t.test('download a file and a directory as zip', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download', exact: true }).click()]);
    assert.equal(dl.suggestedFilename(), 'text.txt');
    const saved = sb.path('dl-text.txt');
    await dl.saveAs(saved);
    assert.deepEqual(readFileSync(saved), readFileSync(join(dir, 'text.txt')));
    await page.goto(`${origin}/browse?snap=latest&p=${encodeURIComponent(dir)}`);
    const [zdl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download as zip' }).click()]);
    assert.equal(zdl.suggestedFilename(), 'dir.zip');
    const zip = sb.path('dir.zip');
    await zdl.saveAs(zip);
    const py = 'import sys,zipfile,hashlib\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor n in sorted(z.namelist()):print(n, hashlib.sha256(z.read(n)).hexdigest())';
    const listing = execFileSync('python3', ['-c', py, zip], { encoding: 'utf8' });
    const sha = (p: string): string => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0] as string;
    assert.match(listing, new RegExp(`^dir/big\\.bin ${sha(join(dir, 'big.bin'))}$`, 'm'));
    assert.match(listing, new RegExp(`^dir/sub/deep\\.txt ${sha(join(dir, 'sub', 'deep.txt'))}$`, 'm'));
  });

  await t.test('search', async () => {
    await page.getByRole('link', { name: 'Search', exact: true }).click();
    await page.fill('input[name=q]', 'deep.*');
    await page.click('button[type=submit]');
    const hits = await page.locator('main table tbody tr').count();
    assert.equal(hits, 2, 'one match per snapshot');
    await page.locator('main table a').first().click();
    assert.match(await page.locator('h1').innerText(), /deep\.txt/);
    await page.goto(`${origin}/search?q=${encodeURIComponent('re:(')}`);
    assert.match(await page.locator('.err').innerText(), /invalid regular expression/);
  });

  await t.test('restore a directory with progress, compared with the source', async () => {
    const target = sb.path('restored');
    await page.goto(`${origin}/browse?snap=latest&p=${encodeURIComponent(dir)}`);
    await page.fill('input[name=target]', target);
    await page.getByRole('button', { name: /^Restore / }).click();
    await page.waitForSelector('#status:not([data-state=running])', { timeout: 60_000 });
    assert.equal(await page.locator('#status').getAttribute('data-state'), 'done', await page.locator('main').innerText());
    assert.match(await page.locator('#status').innerText(), /Restored \d+ files/);
    await page.screenshot({ path: join(artifacts, 'webui-restore.png'), fullPage: true });
    assertSameTree(dir, target, { skipRootTimes: true });
    const id = new URL(page.url()).searchParams.get('id') as string;
    const status = (await (await fetch(`${origin}/api/restore?id=${id}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    assert.equal(status.state, 'done');
    assert.equal(status.files_done, 4);
    assert.equal(status.bytes_done, status.bytes_total);
    assert.equal((status.summary as { files_restored: number }).files_restored, 4);
  });

  await t.test('CSRF: a form without the token or from another origin is refused', async () => {
    const post = async (body: string, headers: Record<string, string> = {}): Promise<number> =>
      (await fetch(`${origin}/restore`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body })).status;
    assert.equal(await post(`snap=latest&p=${encodeURIComponent(dir)}&target=${encodeURIComponent(sb.path('x'))}`), 403);
    assert.equal(await post(`csrf=${token}&snap=latest&p=/&target=${encodeURIComponent(sb.path('x'))}`, { Origin: 'http://evil.example' }), 403);
    assert.equal(await post(`csrf=${token}&snap=latest&p=/&target=relative`), 400);
  });

  await t.test('a bad --listen is a clear error', async () => {
    const r = await sb.cli(['web', '--listen', 'nowhere']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--listen must be HOST:PORT/);
    assertNoStackTrace(r);
  });

  await browser.close();
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  assertNoStackTrace(r);
});
