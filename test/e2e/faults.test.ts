/**
 * Flaky storage, through the real CLI (PYBACKUP_TEST_FAULTS puts a fault injector inside the retry wrapper):
 * transient errors and hangs are retried and the backup, check and restore come out whole; permanent errors end a
 * backup with exit 1 and a plain message, leave no snapshot, and leave a repository that checks clean and takes the
 * next backup.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, jsonLines, summaryOf, writeRandomFile } from './helpers.ts';

/** Small packs and chunks so a few MB make many backend calls. */
const INIT = ['--pack-size', '1M', '--chunk-min', '64K', '--chunk-avg', '128K', '--chunk-max', '256K'];

function makeSource(sb: Sandbox, tag: string): void {
  mkdirSync(join(sb.src, 'sub', 'deeper'), { recursive: true });
  for (let i = 0; i < 8; i++) writeRandomFile(join(sb.src, `${tag}-${i}.bin`), 150_000 + i * 90_000);
  for (let i = 0; i < 4; i++) writeRandomFile(join(sb.src, 'sub', `${tag}-${i}.dat`), 300_000);
  for (let i = 0; i < 30; i++) writeFileSync(join(sb.src, 'sub', 'deeper', `${tag}-note-${i}.txt`), `note ${i} ${tag}\n`.repeat(50 + i));
}

function faultLog(path: string): { op: string; kind: string; when: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { op: string; kind: string; when: string });
}

async function snapshotIds(sb: Sandbox): Promise<string[]> {
  const r = await sb.cli(['--json', 'snapshots']);
  assertExit(r, 0, 'snapshots');
  return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id);
}

function nonHidden(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.'));
}

test('transient errors and hangs: backup, check --read-data and restore all succeed', async (t) => {
  const sb = await Sandbox.create(t, { initArgs: INIT });
  makeSource(sb, 'a');
  const log = sb.path('faults.ndjson');
  const faults = (seed: number): Record<string, string> => ({
    PYBACKUP_TEST_FAULTS: `rate=0.1,kinds=transient+timeout,seed=${seed},timeout=400,base=5,log=${log}`,
  });

  const r = await sb.cli(['--json', 'backup', sb.src], { env: faults(5) });
  assertExit(r, 0, 'backup with faults');
  assertNoStackTrace(r);
  const s = summaryOf(r);
  assert.equal(s.error_count, 0);
  assert.equal(s.total_files_processed, 42);
  assert.ok(s.snapshot_id);
  const struck = faultLog(log);
  assert.ok(struck.length >= 2, `faults struck during the backup: ${JSON.stringify(struck)}`);
  assert.ok(struck.some((f) => f.kind === 'timeout'), 'at least one hang was timed out');
  assert.ok(struck.some((f) => f.op === 'save' && f.when === 'after'), 'at least one save failed after it had landed');
  assert.ok(nonHidden(join(sb.repo, 'data')).length > 0);
  assert.deepEqual(nonHidden(join(sb.repo, 'locks')), [], 'no lock left behind');

  for (const [env, what] of [[faults(11), 'with faults'], [{}, 'without faults']] as const) {
    const c = await sb.cli(['check', '--read-data'], { env });
    assertExit(c, 0, `check --read-data ${what}`);
    assertNoStackTrace(c);
  }

  const target = sb.path('target');
  const rr = await sb.cli(['restore', 'latest', '--target', target, '--verify'], { env: faults(13) });
  assertExit(rr, 0, 'restore with faults');
  assertSameTree(sb.src, join(target, sb.src));
  assert.ok(faultLog(log).length > struck.length, 'faults struck during check and restore too');
});

test('permanent errors on pack or snapshot saves: exit 1, plain message, no snapshot, repository still sound', async (t) => {
  const sb = await Sandbox.create(t, { initArgs: INIT });
  makeSource(sb, 'a');
  const first = await sb.backup([sb.src]);
  assert.deepEqual(await snapshotIds(sb), [first.snapshot_id]);

  for (const [n, rule] of [[1, 'save:pack:1'], [2, 'save:snapshot:0']] as const) {
    makeSource(sb, `new${n}`);
    const r: CliResult = await sb.cli(['--json', 'backup', sb.src], { env: { PYBACKUP_TEST_FAULTS: `fail=${rule},seed=${n}` } });
    assertExit(r, 1, `backup with ${rule}`);
    assertNoStackTrace(r);
    const kind = rule.split(':')[1] ?? '';
    assert.match(r.stderr, new RegExp(`pybackup: save ${kind}/[0-9a-f]{64}: injected permanent fault`), describe(r));
    const exit = jsonLines(r.stdout).find((l) => l.message_type === 'exit_error');
    assert.equal(exit?.code, 1, describe(r));
    assert.equal(jsonLines(r.stdout).some((l) => l.message_type === 'summary'), false, 'no summary for a failed backup');

    assert.deepEqual(await snapshotIds(sb), [first.snapshot_id], `no new snapshot after ${rule}`);
    assert.deepEqual(nonHidden(join(sb.repo, 'locks')), [], 'no lock left behind');
    const c = await sb.cli(['check']);
    assertExit(c, 0, `check after ${rule}`);
    assertNoStackTrace(c);
  }

  const next = await sb.backup([sb.src]);
  assert.equal(next.error_count, 0);
  assert.deepEqual((await snapshotIds(sb)).sort(), [first.snapshot_id, next.snapshot_id].sort());
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check --read-data at the end');
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src));
});

test('a malformed PYBACKUP_TEST_FAULTS is a usage error', async (t) => {
  const sb = await Sandbox.create(t);
  const r = await sb.cli(['snapshots'], { env: { PYBACKUP_TEST_FAULTS: 'rate=2' } });
  assertExit(r, 1, 'bad fault spec');
  assertNoStackTrace(r);
  assert.match(r.stderr, /PYBACKUP_TEST_FAULTS: rate=2/);
});
