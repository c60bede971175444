/**
 * Remote repositories through the real CLI: `rest:` against `rclone serve restic` (plain, with user/password, and
 * --append-only), `rclone:` through `rclone serve restic --stdio` on a local remote, a server killed mid-backup,
 * and --limit-upload / --limit-download.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, restoredPath, spawnCli, writeRandomFile } from './helpers.ts';
import { type RcloneServe, type ServeOptions, startRcloneServe } from './rclone-serve.ts';

const KDF = ['--kdf-memory', '8192'];

function makeSource(sb: Sandbox): void {
  mkdirSync(join(sb.src, 'sub', 'deeper'), { recursive: true });
  writeRandomFile(join(sb.src, 'big.bin'), 3_000_000);
  for (let i = 0; i < 20; i++) writeFileSync(join(sb.src, 'sub', 'deeper', `note-${i}.txt`), `note ${i}\n`.repeat(100 + i));
  writeFileSync(join(sb.src, 'sub', 'empty'), '');
  symlinkSync('sub/deeper/note-1.txt', join(sb.src, 'link'));
}

async function serve(t: TestContext, dir: string, o: ServeOptions = {}): Promise<RcloneServe> {
  const s = await startRcloneServe(dir, o);
  t.after(() => s.stop());
  return s;
}

/** `rclone serve restic --stdio` children still running for `path`. */
function stdioServers(path: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('serve\0restic\0--stdio') && cmd.includes(path)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

async function roundTrip(sb: Sandbox, repo: string, env: Record<string, string> = {}): Promise<void> {
  makeSource(sb);
  assertExit(await sb.cli(['init', ...KDF], { repo, env }), 0, 'init');
  const b = await sb.cli(['backup', sb.src], { repo, env });
  assertExit(b, 0, 'backup');
  assertNoStackTrace(b);
  const target = sb.path('restore');
  assertExit(await sb.cli(['restore', 'latest', '--target', target], { repo, env }), 0, 'restore');
  assertSameTree(sb.src, restoredPath(target, sb.src));
  const c = await sb.cli(['check', '--read-data'], { repo, env });
  assertExit(c, 0, 'check --read-data');
  assert.match(c.stdout, /no errors were found/);
}

test('rest: init, backup, restore, check --read-data through the CLI', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const server = await serve(t, sb.path('server'));
  await roundTrip(sb, `rest:${server.url}repo`);
  assert.ok(existsSync(sb.path('server', 'repo', 'config')), 'the repository lives on the server');
  assert.ok(readdirSync(sb.path('server', 'repo', 'data')).some((d) => /^[0-9a-f]{2}$/.test(d)), 'packs fanned out under data/');
});

test('rclone: init, backup, restore, check --read-data through rclone serve restic --stdio; rclone stops with the CLI', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  writeFileSync(sb.path('rclone.conf'), '[local]\ntype = local\n');
  const where = sb.path('rclone-repo');
  await roundTrip(sb, `rclone:local:${where}`, { RCLONE_CONFIG: sb.path('rclone.conf') });
  assert.ok(existsSync(join(where, 'config')));
  assert.deepEqual(stdioServers(where), [], 'no rclone left running');

  // an error before the repository is open (wrong password) must not leave rclone holding the process open
  const wrong = await sb.cli(['snapshots'], { repo: `rclone:local:${where}`, env: { RCLONE_CONFIG: sb.path('rclone.conf'), PYBACKUP_PASSWORD: 'wrong' }, timeoutMs: 30_000 });
  assertExit(wrong, 12, 'wrong password');
  assert.deepEqual(stdioServers(where), [], 'no rclone left running after an error');

  const bad = await sb.cli(['snapshots'], { repo: 'rclone:nosuchremote:x', env: { RCLONE_CONFIG: sb.path('rclone.conf') } });
  assertExit(bad, 1, 'unknown remote');
  assertNoStackTrace(bad);
  assert.match(bad.stderr, /rclone serve restic for "nosuchremote:x" stopped .*didn't find section in config file/, describe(bad));
  const missing = await sb.cli(['snapshots'], { repo: `rclone:local:${where}`, env: { PYBACKUP_RCLONE_PROGRAM: 'no-such-rclone-binary' } });
  assertExit(missing, 1, 'rclone missing');
  assert.match(missing.stderr, /install rclone/, describe(missing));
});

test('rest: user and password in the URL or the environment; the password shows in no output line', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const PASS = 'Tr0ub4dor&3-secret';
  const server = await serve(t, sb.path('server'), { user: 'alice', pass: PASS });
  const host = server.url.slice('http://'.length);
  const repo = `rest:http://alice:${encodeURIComponent(PASS)}@${host}repo`;
  makeSource(sb);
  const runs: CliResult[] = [];
  const run = async (args: string[], code: number, o: { repo?: string; env?: Record<string, string> } = {}): Promise<CliResult> => {
    const r = await sb.cli(args, { repo: o.repo ?? repo, ...(o.env ? { env: o.env } : {}) });
    assertExit(r, code, args.join(' '));
    assertNoStackTrace(r);
    runs.push(r);
    return r;
  };
  const init = await run(['init', ...KDF], 0);
  assert.match(init.stdout, /at rest:http:\/\/alice@127\.0\.0\.1:\d+\/repo\//);
  await run(['backup', sb.src], 0);
  await run(['--json', 'backup', sb.src], 0);
  await run(['snapshots'], 0);
  await run(['check'], 0);
  // credentials from the environment
  const envAuth = { PYBACKUP_REST_USERNAME: 'alice', PYBACKUP_REST_PASSWORD: PASS };
  const snaps = await run(['--json', 'snapshots'], 0, { repo: `rest:${server.url}repo`, env: envAuth });
  assert.equal((JSON.parse(snaps.stdout) as unknown[]).length, 2);
  // wrong or missing credentials: a plain message, at once
  for (const r of [
    await run(['snapshots'], 1, { repo: `rest:http://alice:wrong-${encodeURIComponent(PASS)}@${host}repo` }),
    await run(['snapshots'], 1, { repo: `rest:${server.url}repo` }),
  ]) {
    assert.match(r.stderr, /refused the credentials \(401 Unauthorized\)/, describe(r));
  }
  for (const r of runs) {
    for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
      assert.ok(!line.includes(PASS) && !line.includes(encodeURIComponent(PASS)), `the password shows in: ${line}`);
    }
  }
});

test('rest --append-only server: backups work, forget fails with a clear message, check passes', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const server = await serve(t, sb.path('server'), { appendOnly: true });
  const repo = `rest:${server.url}repo`;
  makeSource(sb);
  assertExit(await sb.cli(['init', ...KDF], { repo }), 0, 'init');
  assertExit(await sb.cli(['backup', sb.src], { repo }), 0, 'backup 1');
  writeFileSync(join(sb.src, 'sub', 'new.txt'), 'new');
  const second = await sb.cli(['backup', sb.src], { repo });
  assertExit(second, 0, 'backup 2');
  assert.deepEqual(readdirSync(sb.path('server', 'repo', 'locks')), [], 'backups removed their locks');

  const f = await sb.cli(['forget', '--keep-last', '1'], { repo });
  assert.notEqual(f.code, 0, `forget must fail: ${describe(f)}`);
  assertNoStackTrace(f);
  assert.match(f.stderr, /the server is append-only/, describe(f));
  const snaps = await sb.cli(['--json', 'snapshots'], { repo });
  assert.equal((JSON.parse(snaps.stdout) as unknown[]).length, 2, 'both snapshots are still there');
  assertExit(await sb.cli(['check', '--read-data'], { repo }), 0, 'check');
});

test('rest: a server killed mid-backup fails the backup cleanly; the repository checks clean and takes the next backup', { timeout: 300_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const dir = sb.path('server');
  const first = await startRcloneServe(dir);
  t.after(() => first.stop());
  const repo = `rest:${first.url}repo`;
  assertExit(await sb.cli(['init', ...KDF, '--pack-size', '1M'], { repo }), 0, 'init');
  mkdirSync(sb.src);
  for (let i = 0; i < 12; i++) writeRandomFile(join(sb.src, `f${i}.bin`), 4_000_000);
  // quick retries (the test hook with no faults), so the failure comes in seconds rather than minutes
  const env = { PYBACKUP_TEST_FAULTS: 'base=1,timeout=60000' };
  const child = spawnCli(['-r', repo, 'backup', sb.src], { env: { ...sb.env, ...env } });
  child.stdin?.end();
  const out: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => out.push(b));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const packs = (): number => {
    try {
      return readdirSync(join(dir, 'repo', 'data')).reduce((n, d) => n + readdirSync(join(dir, 'repo', 'data', d)).length, 0);
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 60_000;
  while (packs() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(packs() >= 3, 'the backup got going');
  await first.kill();
  const code = await exited;
  const stderr = Buffer.concat(out).toString();
  assert.equal(code, 1, `backup exit ${code}: ${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
  assert.doesNotMatch(stderr, /internal error/i);
  assert.match(stderr, /ECONNREFUSED|connection|socket/i, stderr);

  const second = await serve(t, dir);
  const repo2 = `rest:${second.url}repo`;
  const snaps = await sb.cli(['--json', 'snapshots'], { repo: repo2 });
  assertExit(snaps, 0, 'snapshots');
  assert.deepEqual(JSON.parse(snaps.stdout), [], 'no snapshot from the killed backup');
  const c1 = await sb.cli(['check'], { repo: repo2 });
  assertExit(c1, 0, 'check after the kill');
  assertExit(await sb.cli(['backup', sb.src], { repo: repo2 }), 0, 'the next backup');
  const c2 = await sb.cli(['check', '--read-data'], { repo: repo2 });
  assertExit(c2, 0, 'check --read-data after the next backup');
});

test('--limit-upload and --limit-download slow transfers to the limit', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const server = await serve(t, sb.path('server'));
  const repo = `rest:${server.url}repo`;
  mkdirSync(sb.src);
  writeRandomFile(join(sb.src, 'r.bin'), 3 << 20);
  assertExit(await sb.cli(['init', ...KDF], { repo }), 0, 'init');
  // 3 MiB at 1024 KiB/s, less a half-second burst: at least 2.5 s of transfer
  let t0 = Date.now();
  assertExit(await sb.cli(['--limit-upload', '1024', 'backup', sb.src], { repo }), 0, 'limited backup');
  const up = Date.now() - t0;
  t0 = Date.now();
  assertExit(await sb.cli(['--limit-download', '1024', 'restore', 'latest', '--target', sb.path('t')], { repo }), 0, 'limited restore');
  const down = Date.now() - t0;
  assert.ok(up >= 2400, `backup took ${up} ms`);
  assert.ok(down >= 2400, `restore took ${down} ms`);
  for (const v of ['0', '-5', 'fast']) {
    const r = await sb.cli(['--limit-upload', v, 'snapshots'], { repo });
    assertExit(r, 1, `--limit-upload ${v}`);
    assert.match(r.stderr, /positive number of KiB\/s/);
  }
});
