/**
 * The S3 backend through the real CLI, against s3rver behind a signature-verifying proxy (test/support/s3-server.ts)
 * on 127.0.0.1: init (which creates the bucket), backup, restore, check --read-data under a key prefix; credentials
 * from the environment and from an AWS profile; a wrong secret, a missing bucket and a bad -o are clear one-line
 * errors with no stack trace and no secret in the output.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { S3_KEY, S3_SECRET, type S3TestServer, startS3Server } from '../support/s3-server.ts';
import { type CliResult, PASSWORD, assertExit, assertNoStackTrace, runCli, summaryOf, writeRandomFile } from './helpers.ts';
import { assertSameTree } from './tree-compare.ts';

let server: S3TestServer;
let dir: string;

before(async () => {
  server = await startS3Server({ buckets: ['existing'] });
  dir = mkdtempSync(join(tmpdir(), 'pybackup-e2e-s3-'));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI on an S3 repository with env credentials (S3rver's defaults) unless `env` overrides them. */
async function s3cli(repo: string, args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return await runCli(['-r', `s3:${server.endpoint}/${repo}`, ...args], {
    env: {
      HOME: join(dir, 'home'),
      PYBACKUP_PASSWORD: PASSWORD,
      PYBACKUP_CACHE_DIR: join(dir, 'cache'),
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET,
      ...env,
    },
  });
}

test('s3: init creates the bucket; backup, restore and check --read-data work under a key prefix', async () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
  writeRandomFile(join(src, 'big.bin'), 5 * 1024 * 1024 + 123);
  writeRandomFile(join(src, 'sub', 'mid.bin'), 700_000);
  for (let i = 0; i < 20; i++) writeFileSync(join(src, 'sub', 'deeper', `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  const repo = 'made-by-init/hosts/laptop';
  assertExit(await s3cli(repo, ['init', '--kdf-memory', '8192', '--pack-size', '1M']), 0, 'init');
  const backup = await s3cli(repo, ['--json', 'backup', src]);
  assertExit(backup, 0, 'backup');
  assert.equal(summaryOf(backup).files_new, 22);
  const snaps = await s3cli(repo, ['--json', 'snapshots']);
  assertExit(snaps, 0, 'snapshots');
  const target = join(dir, 'restored');
  assertExit(await s3cli(repo, ['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(src, join(target, src), { skipRootTimes: true });
  const check = await s3cli(repo, ['check', '--read-data']);
  assertExit(check, 0, 'check --read-data');
  assert.match(check.stdout, /no errors were found/);
  // every object lives under the prefix, in the restic REST layout
  const objects = server.log.filter((l) => l.path.startsWith('/made-by-init/') && l.method === 'PUT').map((l) => l.path);
  assert.ok(objects.length > 5);
  for (const p of objects) assert.match(p, /^\/made-by-init\/hosts\/laptop\/(config|keys\/[0-9a-f]{64}|data\/([0-9a-f]{2})\/\2[0-9a-f]{62}|index\/[0-9a-f]{64}|snapshots\/[0-9a-f]{64}|locks\/[0-9a-f]{64})$/);
  assert.ok(objects.some((p) => p.includes('/data/')));
  // a second repository beside it in the same bucket, under another prefix
  assertExit(await s3cli('made-by-init/hosts/desktop', ['init', '--kdf-memory', '8192']), 0, 'init beside');
  const again = await s3cli(repo, ['init', '--kdf-memory', '8192']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already exists/);
  assertNoStackTrace(again);
});

test('s3: credentials from an AWS profile file (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE)', async () => {
  const creds = join(dir, 'aws-credentials');
  writeFileSync(creds, `[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n\n[backup]\naws_access_key_id = ${S3_KEY}\naws_secret_access_key = ${S3_SECRET}\n`);
  const env = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SHARED_CREDENTIALS_FILE: creds, AWS_CONFIG_FILE: join(dir, 'none') };
  assertExit(await s3cli('existing/profiled', ['init', '--kdf-memory', '8192'], { ...env, AWS_PROFILE: 'backup' }), 0, 'init with a profile');
  assertExit(await s3cli('existing/profiled', ['snapshots'], { ...env, AWS_PROFILE: 'backup' }), 0, 'snapshots with a profile');
  const wrong = await s3cli('existing/profiled', ['snapshots'], env);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /403 InvalidAccessKeyId/);
  assertNoStackTrace(wrong);
  const none = await s3cli('existing/profiled', ['snapshots'], { ...env, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no S3 credentials/);
  assertNoStackTrace(none);
});

test('s3: a wrong secret is a clear 403 without a stack trace or the secret', async () => {
  assertExit(await s3cli('existing/secret-test', ['init', '--kdf-memory', '8192']), 0, 'init');
  const secret = 'Wr0ngSecretValue/For+Testing';
  for (const args of [['snapshots'], ['--json', 'snapshots'], ['init', '--kdf-memory', '8192']]) {
    const r = await s3cli(args[0] === 'init' ? 'existing/secret-test-2' : 'existing/secret-test', args, { AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: 'tok3n-secret-value' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /403 SignatureDoesNotMatch/);
    assert.match(r.stderr, /check the secret access key/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assertNoStackTrace(r);
    for (const out of [r.stdout, r.stderr]) {
      assert.ok(!out.includes(secret) && !out.includes('tok3n-secret-value'), `the secret leaked:\n${out}`);
    }
  }
});

test('s3: a missing bucket, a bad location and a bad -o are clear errors', async () => {
  const missing = await s3cli('no-such-bucket/repo', ['snapshots']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /the bucket "no-such-bucket" does not exist/);
  assertNoStackTrace(missing);
  const bad = await runCli(['-r', 's3:https://KEYID:hunter2secret@127.0.0.1:1/bucket', 'snapshots'], { env: { PYBACKUP_PASSWORD: PASSWORD } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /credentials in an S3 location are not accepted/);
  assert.ok(!bad.stderr.includes('hunter2secret'));
  assertNoStackTrace(bad);
  const opt = await s3cli('existing/x', ['-o', 's3.nonsense=1', 'snapshots']);
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /unknown option/);
  assertNoStackTrace(opt);
  // -o s3.path-style=true is accepted (path style is already the default for an IP address)
  assertExit(await s3cli('existing/opt', ['-o', 's3.path-style=true', '-o', 's3.region=us-east-1', 'init', '--kdf-memory', '8192']), 0, 'init with -o');
});
