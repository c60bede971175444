/**
 * `pybackup serve webdav` through the real CLI with real clients: node's HTTP client and curl for the protocol
 * (PROPFIND depths, ranged GET, HEAD, read-only answers, path tricks, odd names), rclone as a WebDAV client copying a
 * whole snapshot back for comparison with the source, and Ctrl-C stopping cleanly with the lock released.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, writeRandomFile } from './helpers.ts';
import { http, shownTree, started } from './webdav-helpers.ts';

const hasCurl = spawnSync('curl', ['--version']).status === 0;
const hasRclone = spawnSync('rclone', ['version']).status === 0;

test('serve webdav', async (t) => {
  const sb = await Sandbox.create(t);
  const src = sb.src;
  mkdirSync(join(src, 'dir', 'deep'), { recursive: true });
  writeFileSync(join(src, 'dir', 'hello.txt'), 'hello webdav\n');
  writeFileSync(join(src, 'dir', 'deep', 'empty'), '');
  writeFileSync(join(src, 'sp ace #?%.txt'), 'odd but UTF-8\n');
  writeFileSync(Buffer.from(`${src}/n\xe9`, 'latin1'), 'latin1 name\n');
  writeRandomFile(join(src, 'big.bin'), 3 << 20); // several blobs
  symlinkSync('dir/hello.txt', join(src, 'ln'));
  await sb.backup(['--host', 'alpha', '--tag', 'nightly', src]);
  await sb.backup(['--host', 'beta', src]);
  const big = readFileSync(join(src, 'big.bin'));

  const bad = await sb.cli(['serve', 'webdav', '--listen', 'nonsense']);
  assertExit(bad, 1, 'bad --listen');
  assert.match(bad.stderr, /invalid --listen "nonsense"/);
  assertNoStackTrace(bad);

  const srv = await started(sb.spawn(['--json', 'serve', 'webdav']), 'listening');
  const url = srv.first.url as string;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const base = `/latest/alpha${src}`;
  t.after(() => srv.child.kill('SIGKILL'));

  await t.test('namespace and PROPFIND depth 0 / 1 / infinity', async () => {
    const root = await http(url, 'PROPFIND', '/', { Depth: '1' });
    assert.equal(root.status, 207);
    for (const d of ['hosts', 'latest', 'snapshots', 'tags']) assert.match(root.body.toString(), new RegExp(`<D:href>/${d}/</D:href>`));
    const latest = (await http(url, 'PROPFIND', '/latest/', { Depth: '1' })).body.toString();
    assert.match(latest, /<D:href>\/latest\/alpha\/<\/D:href>/);
    assert.match(latest, /<D:href>\/latest\/beta\/<\/D:href>/);
    const tags = (await http(url, 'PROPFIND', '/tags/nightly/', { Depth: '1' })).body.toString();
    assert.equal((tags.match(/<D:response>/g) ?? []).length, 2, 'one tagged snapshot');
    const snaps = (await http(url, 'PROPFIND', '/snapshots/', { Depth: '1' })).body.toString();
    assert.equal((snaps.match(/<D:href>\/snapshots\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_[0-9a-f]{8}\/<\/D:href>/g) ?? []).length, 2);
    const d0 = await http(url, 'PROPFIND', `${base}/big.bin`, { Depth: '0' });
    assert.equal(d0.status, 207);
    const x = d0.body.toString();
    assert.match(x, new RegExp(`<D:getcontentlength>${big.length}</D:getcontentlength>`));
    assert.match(x, /<D:getlastmodified>\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT<\/D:getlastmodified>/);
    assert.match(x, /<D:getetag>&quot;[0-9a-f]+&quot;<\/D:getetag>/);
    const d1 = (await http(url, 'PROPFIND', `${base}/`, { Depth: '1' })).body.toString();
    assert.match(d1, /sp%20ace%20%23%3F%25.txt<\/D:href>/);
    assert.match(d1, /<D:displayname>n\\xe9<\/D:displayname>/);
    assert.doesNotMatch(d1, /\/ln<\/D:href>/, 'symlinks are not served');
    assert.equal((await http(url, 'PROPFIND', '/', { Depth: 'infinity' })).status, 403);
  });

  await t.test('GET, ranged GET, HEAD and odd names', async () => {
    const full = await http(url, 'GET', `${base}/big.bin`);
    assert.equal(full.status, 200);
    assert.ok(full.body.equals(big));
    const r = await http(url, 'GET', `${base}/big.bin`, { Range: 'bytes=1500000-2600000' });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 1500000-2600000/${big.length}`);
    assert.ok(r.body.equals(big.subarray(1_500_000, 2_600_001)));
    assert.equal((await http(url, 'GET', `${base}/big.bin`, { Range: `bytes=${big.length}-` })).status, 416);
    const head = await http(url, 'HEAD', `${base}/big.bin`);
    assert.equal(head.headers['content-length'], String(big.length));
    assert.equal(head.body.length, 0);
    for (const p of [`${base}/n%E9`, `${base}/n%5Cxe9`]) assert.equal((await http(url, 'GET', p)).body.toString(), 'latin1 name\n', p);
    assert.equal((await http(url, 'GET', `${base}/sp%20ace%20%23%3F%25.txt`)).body.toString(), 'odd but UTF-8\n');
    const listing = await http(url, 'GET', `${base}/dir/`);
    assert.match(listing.body.toString(), /<a href="[^"]*\/dir\/hello.txt">hello.txt<\/a>/);
  });

  await t.test('read-only answers and path tricks', async () => {
    for (const m of ['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH']) assert.equal((await http(url, m, `${base}/big.bin`)).status, 403, m);
    for (const m of ['LOCK', 'UNLOCK']) assert.equal((await http(url, m, `${base}/big.bin`)).status, 405, m);
    for (const p of ['/latest/..', '/latest/%2e%2e/%2e%2e/etc/passwd', `${base}/dir%2fhello.txt`, '/a%00b', '/%c0%ae%c0%ae/etc', '/..%2f..%2fetc/passwd']) {
      const st = (await http(url, 'GET', p)).status;
      assert.ok(st === 400 || st === 404, `${p}: ${st}`);
    }
    if (hasCurl) {
      const c = execFileSync('curl', ['-s', '--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', `${url}latest/../../etc/passwd`]).toString();
      assert.equal(c, '400');
      const pf = execFileSync('curl', ['-s', '-X', 'PROPFIND', '-H', 'Depth: 0', `${url}latest/alpha${src}/dir/hello.txt`]).toString();
      assert.match(pf, /<D:getcontentlength>13<\/D:getcontentlength>/);
    }
  });

  await t.test('rclone copies a whole snapshot that equals the source', { skip: hasRclone ? false : 'rclone is not installed' }, async () => {
    const out = sb.path('copy');
    const r = spawnSync('rclone', ['copy', `:webdav:latest/alpha${src}`, out, '--webdav-url', url, '--webdav-vendor', 'other', '--config', '/dev/null'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = shownTree(src);
    assert.deepEqual(shownTree(out), want);
    assert.ok(readdirSync(out).includes('n\\xe9'), 'the odd name arrives in its shown form');
    const lsf = spawnSync('rclone', ['lsf', ':webdav:', '--webdav-url', url, '--config', '/dev/null'], { encoding: 'utf8' });
    assert.deepEqual(lsf.stdout.trim().split('\n'), ['hosts/', 'latest/', 'snapshots/', 'tags/']);
  });

  await t.test('Ctrl-C stops cleanly with exit 130 and releases the lock', async () => {
    srv.child.kill('SIGINT');
    const res = await srv.done;
    assertExit(res, 130, 'serve after SIGINT');
    assertNoStackTrace(res);
    assert.deepEqual(readdirSync(join(sb.repo, 'locks')), []);
  });
});
