/**
 * Proof by kill -9: backups killed at many moments leave a repository that `check` passes; earlier snapshots still
 * restore identically; the next backup completes and reuses the packs the killed runs stored (through the
 * unindexed-pack journal, docs/design.md §10).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, collect, describe, jsonLines, writeRandomFile } from './helpers.ts';
import { assertSameTree } from './tree-compare.ts';

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function packCount(repo: string): number {
  let n = 0;
  for (const d of readdirSync(join(repo, 'data')).filter((x) => /^[0-9a-f]{2}$/.test(x))) n += readdirSync(join(repo, 'data', d)).filter((f) => !f.startsWith('.')).length;
  return n;
}

function makeTree(dir: string, files: number, bigFiles: number, bigSize: number): number {
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const text = `file ${dir} ${i}\n`.repeat(1 + (i % 40));
    writeFileSync(join(dir, `small-${i}.txt`), text);
    bytes += text.length;
  }
  for (let i = 0; i < bigFiles; i++) {
    writeRandomFile(join(dir, `big-${i}.bin`), bigSize);
    bytes += bigSize;
  }
  return bytes;
}

test('backups killed with SIGKILL at random moments: check passes, old snapshots restore, the next backup reuses stored packs', { timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.PYBACKUP_TEST_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (set PYBACKUP_TEST_SEED to repeat)`);
  const rand = rng(seed);
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  const base = join(sb.src, 'base');
  makeTree(base, 100, 2, 1 << 20);
  const a = await sb.backup([base]);
  assert.ok(a.snapshot_id);

  const moving = join(sb.src, 'moving');
  // calibration: how long one uninterrupted round takes (each round adds the same amount of new data)
  let total = makeTree(join(moving, 'calibration'), 150, 16, 1536 << 10);
  const t0 = Date.now();
  assertExit(await sb.cli(['backup', moving]), 0, 'calibration backup');
  const roundMs = Date.now() - t0;
  let killed = 0;
  const rounds = 10;
  for (let i = 0; i < rounds; i++) {
    // fresh data every round, so each run has packs to write
    total += makeTree(join(moving, `round-${i}`), 150, 16, 1536 << 10);
    const before = packCount(sb.repo);
    const child = sb.spawn(['--json', 'backup', moving]);
    const result = collect(child, { timeoutMs: 120_000 });
    // kill moments spread uniformly over a whole run: start-up, walking, packing, index and snapshot writes
    const delay = 20 + Math.floor(rand() * roundMs * 1.1);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const r = await result;
    clearTimeout(timer);
    if (r.signal === 'SIGKILL') killed++;
    else assertExit(r, 0, `round ${i} finished before the kill at ${delay} ms`);
    t.diagnostic(`round ${i} (a full run takes ${roundMs} ms): kill at ${delay} ms, ${r.signal === 'SIGKILL' ? 'killed' : 'finished'}, packs ${before} -> ${packCount(sb.repo)}`);
    const check = await sb.cli(['check'], { timeoutMs: 120_000 });
    assertExit(check, 0, `check after round ${i} (kill at ${delay} ms)`);
    assertNoStackTrace(check);
  }
  assert.ok(killed >= rounds / 2, `most rounds were killed mid-run (${killed} of ${rounds})`);

  const stored = packCount(sb.repo);
  const last = await sb.cli(['--json', 'backup', moving], { timeoutMs: 120_000 });
  assertExit(last, 0, 'the backup after the kills');
  const summary = jsonLines(last.stdout).find((l) => l.message_type === 'summary') as { data_added: number; snapshot_id: string } | undefined;
  assert.ok(summary, describe(last));
  t.diagnostic(`final backup: data added ${summary.data_added} of ${total} bytes; packs before ${stored}, after ${packCount(sb.repo)}`);
  if (stored > 0) assert.ok(summary.data_added < total, `the final backup reused data stored by the killed runs (${summary.data_added} >= ${total})`);

  const full = await sb.cli(['check', '--read-data'], { timeoutMs: 120_000 });
  assertExit(full, 0, 'check --read-data at the end');
  for (const [snap, dir] of [[a.snapshot_id, base], [summary.snapshot_id, moving]] as const) {
    const target = sb.path(`restore-${snap.slice(0, 8)}`);
    assertExit(await sb.cli(['restore', snap, '--target', target, '--verify'], { timeoutMs: 120_000 }), 0, `restore ${snap}`);
    assertSameTree(dir, join(target, dir), { skipRootTimes: true });
  }
});
