/**
 * 8. Ctrl-C during a backup: exit 130, no snapshot from the interrupted run, the repository stays usable (listing,
 * a new backup, an identical restore) and no lock is left behind.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, describe, jsonLines, writeRandomFile } from './helpers.ts';

test('SIGINT during backup: exit 130, repository consistent, next backup and restore fine', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) writeRandomFile(join(sb.src, `part-${i}.bin`), 50 << 20);
  writeRandomFile(join(sb.src, 'sub', 'last.bin'), 50 << 20);

  const child = sb.spawn(['--json', 'backup', sb.src]);
  let sent = false;
  let sawSummary = false;
  let buffered = '';
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  child.stdout?.on('data', (b: Buffer) => {
    // fallback: interrupt ~1 s after the first output even without a progress line (the CLI is up by then, its
    // SIGINT handler installed; a fixed delay from spawn can fire before that on a loaded machine)
    timer ??= setTimeout(() => {
      if (!sent) {
        sent = true;
        child.kill('SIGINT');
      }
    }, 1000);
    buffered += b.toString();
    for (const l of jsonLines(buffered)) {
      if (l.message_type === 'summary') sawSummary = true;
      if (!sent && l.message_type === 'status' && Number(l.bytes_done) > 0) {
        sent = true;
        child.kill('SIGINT');
      }
    }
  });
  const r = await collect(child, { timeoutMs: 120_000 });
  clearTimeout(timer);
  assert.ok(sent, 'SIGINT was sent');
  assert.equal(sawSummary, false, `the backup finished before it could be interrupted (${Date.now() - started} ms): ${describe(r)}`);
  assertExit(r, 130, 'interrupted backup');
  assertNoStackTrace(r);

  // no snapshot, no lock left
  assert.deepEqual(readdirSync(join(sb.repo, 'snapshots')).filter((n) => !n.startsWith('.')), []);
  assert.deepEqual(readdirSync(join(sb.repo, 'locks')).filter((n) => !n.startsWith('.')), []);
  const list = await sb.cli(['--json', 'snapshots']);
  assertExit(list, 0, 'snapshots after the interrupt');
  assert.deepEqual(JSON.parse(list.stdout), []);
  const cat = await sb.cli(['cat', 'snapshot', 'latest']);
  assert.notEqual(cat.code, 0, 'no latest snapshot to cat');
  assertNoStackTrace(cat);

  // a new backup completes and restores identically
  const s = await sb.backup([sb.src]);
  assert.equal(s.error_count, 0);
  assert.equal(s.total_files_processed, 6);
  const after = await sb.cli(['--json', 'snapshots']);
  const snaps = JSON.parse(after.stdout) as { id: string }[];
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]?.id, s.snapshot_id);
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target, '--verify']), 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src));

  // SIGINT during a restore: exit 130, no stack trace, no lock left
  const rc = sb.spawn(['--json', 'restore', 'latest', '--target', sb.path('target2')]);
  let out = '';
  let interrupted = false;
  rc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    if (!interrupted && jsonLines(out).some((l) => l.message_type === 'status' && Number(l.bytes_restored) > 0)) {
      interrupted = true;
      rc.kill('SIGINT');
    }
  });
  const rr = await collect(rc, { timeoutMs: 120_000 });
  assertNoStackTrace(rr);
  if (jsonLines(rr.stdout).some((l) => l.message_type === 'summary')) {
    t.diagnostic('the restore finished before it could be interrupted');
    assertExit(rr, 0, 'restore');
  } else {
    assertExit(rr, 130, 'interrupted restore');
  }
  assert.deepEqual(readdirSync(join(sb.repo, 'locks')).filter((n) => !n.startsWith('.')), []);
});
