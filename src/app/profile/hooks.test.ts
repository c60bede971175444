import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AbortedError } from '../../errors.ts';
import { HookFailedError, hookEnvironment, redactLocation, runCommand, runCommands } from './hooks.ts';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'pybackup-hooks-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('the hook environment: run variables set, passwords and stale run variables removed', () => {
  const env = hookEnvironment(
    { PATH: '/bin', PYBACKUP_PASSWORD: 'secret', MY_PW: 'secret2', PYBACKUP_SNAPSHOT_ID: 'stale', PYBACKUP_CACHE_DIR: '/c' },
    { PYBACKUP_PROFILE: 'home', PYBACKUP_EXIT_CODE: '0' },
    ['MY_PW'],
  );
  assert.deepEqual(env, { PATH: '/bin', PYBACKUP_CACHE_DIR: '/c', PYBACKUP_PROFILE: 'home', PYBACKUP_EXIT_CODE: '0' });
});

test('repository locations lose their password', () => {
  assert.equal(redactLocation('rest:https://user:secret@host:8000/repo'), 'rest:https://user:***@host:8000/repo');
  assert.equal(redactLocation('s3:https://s3.example.com/bucket'), 's3:https://s3.example.com/bucket');
  assert.equal(redactLocation('sftp:user@host:/srv/repo'), 'sftp:user@host:/srv/repo');
  assert.equal(redactLocation('/srv/repo'), '/srv/repo');
});

test('commands run through /bin/sh in order with the environment; the first failure stops the rest', async (t) => {
  const d = tmp(t);
  const log = join(d, 'log');
  const started: string[] = [];
  await runCommands([`echo "one $PYBACKUP_PROFILE" >> ${log}`, `echo two >> ${log}`], {
    env: { PATH: process.env.PATH ?? '/bin', PYBACKUP_PROFILE: 'p' },
    what: 'before hook',
    stdout: 'stderr',
    onStart: (c) => started.push(c),
  });
  assert.equal(readFileSync(log, 'utf8'), 'one p\ntwo\n');
  assert.equal(started.length, 2);
  await assert.rejects(
    runCommands([`exit 3`, `echo never >> ${log}`], { env: {}, what: 'before hook', stdout: 'stderr' }),
    (e: unknown) => e instanceof HookFailedError && e.code === 'HOOK_FAILED' && e.message === 'before hook "exit 3" failed: exit status 3',
  );
  assert.equal(readFileSync(log, 'utf8'), 'one p\ntwo\n');
  await assert.rejects(runCommand('kill -TERM $$', { env: {}, what: 'after hook', stdout: 'stderr' }), /after hook "kill -TERM \$\$" failed: killed by SIGTERM/);
});

test('a timeout stops the command and what it started', async (t) => {
  const d = tmp(t);
  const marker = join(d, 'late');
  const t0 = Date.now();
  await assert.rejects(
    runCommand(`(sleep 2; touch ${marker}) & sleep 30`, { env: { PATH: process.env.PATH ?? '/bin' }, what: 'before hook', stdout: 'stderr', timeoutMs: 300 }),
    /before hook ".*" timed out after 0\.3 s and was stopped/,
  );
  assert.ok(Date.now() - t0 < 5000, 'did not wait for the command');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(existsSync(marker), false, 'the background child was killed with its process group');
});

test('an abort stops the command; an aborted signal runs nothing', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(runCommand('sleep 30', { env: { PATH: process.env.PATH ?? '/bin' }, what: 'before hook', stdout: 'stderr', signal: ac.signal }), AbortedError);
  await assert.rejects(runCommand('true', { env: {}, what: 'before hook', stdout: 'stderr', signal: ac.signal }), AbortedError);
});
