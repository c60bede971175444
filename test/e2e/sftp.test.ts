/**
 * SFTP repositories through the real CLI against a real OpenSSH sshd on 127.0.0.1: init, backup, restore and
 * check --read-data (URL form, scp form through an ssh config alias, PYBACKUP_REPOSITORY); host key and
 * authentication problems end with exit 1 and a plain message; sshd killed in the middle of a backup either is
 * retried through (restarted) or ends the backup cleanly (stays down), and the repository checks clean afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Sshd, startSshd } from '../servers/sshd.ts';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, jsonLines, runCli, summaryOf, writeRandomFile } from './helpers.ts';

let sshd: Sshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd?.stop();
});

const INIT = ['init', '--kdf-memory', '8192', '--pack-size', '1M', '--chunk-min', '64K', '--chunk-avg', '128K', '--chunk-max', '256K'];
let n = 0;

/** A sandbox whose repository lives on the sshd, reached with the test key and known_hosts file. */
async function sftpSandbox(t: Parameters<typeof Sandbox.create>[0]): Promise<{ sb: Sandbox; dir: string; repo: string; cli: (args: string[], env?: Record<string, string | undefined>) => Promise<CliResult> }> {
  const sb = await Sandbox.create(t, { init: false });
  const dir = join(sshd.dir, `repo-${++n}`);
  const repo = sshd.location(dir);
  const cli = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => sb.cli(args, { repo, env: { ...sshd.env, ...env } });
  return { sb, dir, repo, cli };
}

function makeSource(src: string, mb: number): void {
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < mb; i++) writeRandomFile(join(src, `r${i}.bin`), 1 << 20);
  for (let i = 0; i < 50; i++) writeFileSync(join(src, 'sub', `t${i}.txt`), `line ${i}\n`.repeat(200 + i));
}

test('init, backup, restore and check --read-data over sftp: URL form, ssh config alias, PYBACKUP_REPOSITORY', async (t) => {
  const { sb, dir, cli } = await sftpSandbox(t);
  makeSource(sb.src, 6);
  assertExit(await cli(INIT), 0, 'init');
  assert.ok(existsSync(join(dir, 'config')) && existsSync(join(dir, 'data', 'ff')), 'the layout was created on the server');
  const r = await cli(['--json', 'backup', sb.src]);
  assertExit(r, 0, 'backup');
  assert.equal(summaryOf(r).total_files_processed, 56);
  const target = sb.path('restore');
  assertExit(await cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src));
  const c = await cli(['check', '--read-data']);
  assertExit(c, 0, 'check --read-data');
  assert.match(c.stdout, /no errors were found/);

  // the scp-like form, with host, port, user, key and known_hosts from an ssh config, given in PYBACKUP_REPOSITORY
  const cfg = sb.path('ssh_config');
  writeFileSync(cfg, `Host backupbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${sshd.knownHosts}\n`);
  const env = { ...sb.env, PYBACKUP_SFTP_SSH_CONFIG: cfg, PYBACKUP_REPOSITORY: `sftp:backupbox:${dir}`, SSH_AUTH_SOCK: undefined };
  writeFileSync(join(sb.src, 'sub', 'new.txt'), 'added later\n');
  const b2 = await runCli(['--json', 'backup', sb.src], { env });
  assertExit(b2, 0, 'backup through the alias');
  assert.equal(summaryOf(b2).files_new, 1);
  const snaps = await runCli(['--json', 'snapshots'], { env });
  assertExit(snaps, 0, 'snapshots');
  assert.equal((JSON.parse(snaps.stdout) as unknown[]).length, 2);
});

test('unknown host key: exit 1, how to add it, no stack trace', async (t) => {
  const { sb, cli } = await sftpSandbox(t);
  const kh = sb.path('empty_known_hosts');
  writeFileSync(kh, '');
  const r = await cli(INIT, { PYBACKUP_SFTP_KNOWN_HOSTS: kh });
  assertExit(r, 1, 'init against an unknown host');
  assertNoStackTrace(r);
  assert.match(r.stderr, /host key of \[127\.0\.0\.1\]:\d+ is not known/);
  assert.match(r.stderr, new RegExp(`ssh-keyscan -p ${sshd.port} .*127\\.0\\.0\\.1 >> `));
});

test('wrong key: exit 1 with a clear authentication error', async (t) => {
  const { sb, cli } = await sftpSandbox(t);
  const key = sb.path('stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { stdio: 'ignore' });
  const r = await cli(INIT, { PYBACKUP_SFTP_KEY: key });
  assertExit(r, 1, 'init with a key the server does not accept');
  assertNoStackTrace(r);
  assert.match(r.stderr, /authentication to \S+ failed/);
  assert.doesNotMatch(r.stderr, /retrying/, 'an authentication failure is not retried');
});

/** Waits until the backup has stored some packs on the server. */
async function untilPacks(dir: string, atLeast: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    let count = 0;
    for (const d of existsSync(join(dir, 'data')) ? readdirSync(join(dir, 'data')) : []) count += readdirSync(join(dir, 'data', d)).filter((x) => !x.startsWith('.')).length;
    if (count >= atLeast) return;
    await sleep(20);
  }
  throw new Error('the backup stored no packs');
}

test('sshd killed mid-backup and back soon: the backup retries through, and the repository checks clean', async (t) => {
  const { sb, dir, cli } = await sftpSandbox(t);
  makeSource(sb.src, 120);
  assertExit(await cli(INIT), 0, 'init');
  const running = cli(['--json', 'backup', sb.src]);
  await untilPacks(dir, 3);
  sshd.kill();
  await sleep(300);
  await sshd.start();
  const r = await running;
  assertExit(r, 0, 'backup across a server restart');
  assertNoStackTrace(r);
  assert.match(r.stderr, /failed \(attempt 1\).*retrying/, 'the retry was reported');
  assertExit(await cli(['check', '--read-data']), 0, 'check --read-data');
  const target = sb.path('restore');
  assertExit(await cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src));
});

test('sshd killed mid-backup and staying down: a clean failure; afterwards check passes and backups work', async (t) => {
  const { sb, dir, cli } = await sftpSandbox(t);
  makeSource(sb.src, 120);
  assertExit(await cli(INIT), 0, 'init');
  // the test-faults hook with no faults: only to shorten the retry backoff, so giving up takes seconds, not minutes
  const quickRetry = { PYBACKUP_TEST_FAULTS: 'rate=0,base=20,timeout=60000' };
  const running = cli(['--json', 'backup', sb.src], quickRetry);
  await untilPacks(dir, 3);
  sshd.kill();
  const r = await running;
  await sshd.start();
  assertExit(r, 1, 'backup with the server gone');
  assertNoStackTrace(r);
  assert.match(`${r.stderr}${r.stdout}`, /cannot connect to .*ECONNREFUSED|connection .*lost/i, describe(r));
  assert.equal(jsonLines(r.stdout).filter((l) => l.message_type === 'summary').length, 0, 'no summary, no snapshot');
  const c = await cli(['check', '--read-data']);
  assertExit(c, 0, 'check after the failed backup');
  const again = await cli(['--json', 'backup', sb.src]);
  assertExit(again, 0, 'the next backup');
  assertExit(await cli(['check']), 0, 'check');
});

test('changed host key: exit 1 and a loud warning, nothing sent', async (t) => {
  const { cli } = await sftpSandbox(t);
  await sshd.rotateHostKey();
  const r = await cli(INIT);
  assertExit(r, 1, 'init after the host key changed');
  assertNoStackTrace(r);
  assert.match(r.stderr, /host key for \[127\.0\.0\.1\]:\d+ has CHANGED/);
  assert.match(r.stderr, /man-in-the-middle/);
});
