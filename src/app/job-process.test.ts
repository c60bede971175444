import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunOutput, resultOf, runJobProcess } from './job-process.ts';

const node = (script: string, o: { signal?: AbortSignal; killAfterMs?: number; onStderr?: (l: string) => void } = {}) =>
  runJobProcess({ command: process.execPath, args: ['-e', script], ...o });

test('the outcome comes from the NDJSON lines and the exit code', async () => {
  const lines = [
    { message_type: 'status', percent_done: 0.5 },
    { message_type: 'summary', data_added: 1234, snapshot_id: 'a'.repeat(64) },
    { message_type: 'profile_summary', profile: 'home', exit_code: 0, snapshot_id: 'a'.repeat(64) },
  ];
  const ok = await node(`for (const l of ${JSON.stringify(lines.map((l) => JSON.stringify(l)))}) console.log(l);`);
  assert.deepEqual(ok, { result: 'ok', exitCode: 0, bytesAdded: 1234, snapshotId: 'a'.repeat(64) });

  const failed = await node(`console.log(JSON.stringify({ message_type: 'profile_summary', exit_code: 10, failed_step: 'backup', error: 'repository does not exist' })); console.error('pybackup: repository does not exist'); process.exit(10);`);
  assert.deepEqual(failed, { result: 'failed', exitCode: 10, error: 'backup: repository does not exist' });

  const early = await node(`console.error('pybackup: no profile "hme"'); console.log(JSON.stringify({ message_type: 'exit_error', code: 1, message: 'no profile "hme" in /c.toml' })); process.exit(1);`);
  assert.equal(early.error, 'no profile "hme" in /c.toml');

  const warning = await node(`console.log(JSON.stringify({ message_type: 'summary', data_added: 5 })); process.exit(3);`);
  assert.equal(warning.result, 'warning');
  assert.equal(warning.error, 'exit code 3');
});

test('a crashing job is an outcome, not an exception; its stderr is handed over line by line', async () => {
  const stderr: string[] = [];
  const crash = await node(`console.error('about to crash'); throw new Error('boom');`, { onStderr: (l) => stderr.push(l) });
  assert.equal(crash.result, 'failed');
  assert.equal(crash.exitCode, 1);
  assert.ok(stderr.includes('about to crash'));
  const killed = await node(`process.kill(process.pid, 'SIGKILL')`);
  assert.deepEqual(killed, { result: 'interrupted', exitCode: null, signal: 'SIGKILL', error: 'killed by SIGKILL' });
  const missing = await runJobProcess({ command: '/nonexistent/node', args: [] });
  assert.equal(missing.result, 'failed');
  assert.match(missing.error ?? '', /cannot start \/nonexistent\/node: .*ENOENT/);
});

test('aborting forwards SIGTERM, and SIGKILL follows when it is ignored', async () => {
  const ac = new AbortController();
  const polite = node(`process.on('SIGTERM', () => { console.error('stopping'); process.exit(130); }); console.log('{"message_type":"ready"}'); setInterval(() => {}, 1000);`, { signal: ac.signal });
  setTimeout(() => ac.abort(), 300);
  assert.deepEqual(await polite, { result: 'interrupted', exitCode: 130, error: 'stopping' });
  const ac2 = new AbortController();
  const stubborn = node(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`, { signal: ac2.signal, killAfterMs: 200 });
  setTimeout(() => ac2.abort(), 300);
  assert.equal((await stubborn).signal, 'SIGKILL');
});

test('parseRunOutput skips noise; resultOf maps exit codes', () => {
  assert.deepEqual(parseRunOutput(['not json', '{broken', '{"message_type":"summary","data_added":1}', '{"message_type":"summary","data_added":2,"snapshot_id":"x"}']), { bytesAdded: 3, snapshotId: 'x' });
  assert.equal(resultOf(0, null), 'ok');
  assert.equal(resultOf(3, null), 'warning');
  assert.equal(resultOf(130, null), 'interrupted');
  assert.equal(resultOf(null, 'SIGTERM'), 'interrupted');
  assert.equal(resultOf(12, null), 'failed');
});
