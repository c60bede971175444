/**
 * Proof by kill -9 for prune (docs/design.md §14e, §15a): prunes killed at random moments — while reading, repacking,
 * writing the mark, sweeping — leave a repository that `check` passes and whose snapshots restore identically; the
 * next prune finishes the job and leaves no unused data behind.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, describe, jsonLines, writeRandomFile } from './helpers.ts';

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

const FILES = 400;

/** The write steps of a prune, as its --json events name them. */
const TRIGGERS = ['written:pack', 'written:index', 'mark_written', 'removed:pack', 'removed:index', 'mark_removed'];

function eventKey(line: string): string | undefined {
  try {
    const e = JSON.parse(line) as { message_type?: string; file_type?: string };
    if (e.message_type === 'written' || e.message_type === 'removed') return `${e.message_type}:${e.file_type}`;
    return e.message_type === 'mark_written' || e.message_type === 'mark_removed' ? e.message_type : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces `n` of the files in `dir` (or creates them) with new random content. */
function churn(dir: string, files: number, n: number, rand: () => number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) writeRandomFile(join(dir, `f-${Math.floor(rand() * files)}.bin`), 8192 + Math.floor(rand() * 40_000));
}

test('prunes killed with SIGKILL at random moments: check passes, snapshots restore, the next prune frees the space', { timeout: 400_000 }, async (t) => {
  const seed = Number(process.env.PYBACKUP_TEST_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed} (set PYBACKUP_TEST_SEED to repeat)`);
  const rand = rng(seed);
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  const base = join(sb.src, 'base');
  mkdirSync(base, { recursive: true });
  writeRandomFile(join(base, 'big.bin'), 3 << 20);
  const baseSnap = (await sb.backup([base])).snapshot_id!;
  const work = join(sb.src, 'work');
  churn(work, FILES, FILES, rand);
  let last = (await sb.backup([work])).snapshot_id!;

  // calibration: how long a full prune of one round's garbage takes
  const round = async (): Promise<void> => {
    churn(work, FILES, FILES / 4, rand);
    const next = (await sb.backup([work])).snapshot_id!;
    rmSync(join(sb.repo, 'snapshots', last));
    last = next;
  };
  await round();
  const t0 = Date.now();
  assertExit(await sb.cli(['prune', '--max-unused', '0']), 0, 'calibration prune');
  const pruneMs = Date.now() - t0;

  let killed = 0;
  const rounds = 10;
  for (let i = 0; i < rounds; i++) {
    await round();
    const child = sb.spawn(['--json', 'prune', '--max-unused', '0']);
    const result = collect(child, { timeoutMs: 120_000 });
    // even rounds: a random moment of a whole run; odd rounds: right after the n-th event of a kind, so that every
    // step of the write order (new packs, their index, the mark, replacement index files, deletions) is hit
    let when: string;
    let timer: NodeJS.Timeout | undefined;
    if (i % 2 === 0) {
      const delay = 50 + Math.floor(rand() * pruneMs * 1.2);
      when = `at ${delay} ms`;
      timer = setTimeout(() => child.kill('SIGKILL'), delay);
    } else {
      const trigger = TRIGGERS[Math.floor(rand() * TRIGGERS.length)] as string;
      const nth = trigger.startsWith('mark') ? 1 : 1 + Math.floor(rand() * 2);
      when = `after ${trigger} #${nth}`;
      let seen = 0;
      let buf = '';
      child.stdout?.on('data', (b: Buffer) => {
        buf += b.toString('utf8');
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) if (eventKey(line) === trigger && ++seen === nth) child.kill('SIGKILL');
      });
    }
    const r = await result;
    clearTimeout(timer);
    if (r.signal === 'SIGKILL') killed++;
    else assertExit(r, 0, `round ${i}: prune finished before the kill ${when}`);
    const steps: [string, number][] = [];
    for (const l of jsonLines(r.stdout)) {
      const k = eventKey(JSON.stringify(l));
      const top = steps[steps.length - 1];
      if (k === undefined) continue;
      if (top && top[0] === k) top[1]++;
      else steps.push([k, 1]);
    }
    const done = steps.map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(' ') || 'none';
    t.diagnostic(`round ${i} (a full prune takes ${pruneMs} ms): kill ${when}, ${r.signal === 'SIGKILL' ? 'killed' : 'finished'}; steps done: ${done}`);
    const check = await sb.cli(['check'], { timeoutMs: 120_000 });
    assertExit(check, 0, `check after round ${i} (kill ${when})`);
    assertNoStackTrace(check);
    if (i % 3 === 2) {
      const target = sb.path(`restore-${i}`);
      assertExit(await sb.cli(['restore', last, '--target', target]), 0, `restore after round ${i}`);
      assertSameTree(work, join(target, work), { skipRootTimes: true });
    }
  }
  t.diagnostic(`${killed} of ${rounds} prunes were killed`);

  // a prune that runs to the end removes what the killed ones left: marks, unindexed packs, unused blobs
  const final = await sb.cli(['--json', 'prune', '--max-unused', '0']);
  assertExit(final, 0, 'the final prune');
  assert.equal(jsonLines(final.stdout).find((l) => l.message_type === 'summary')?.packs_pending, 0, describe(final));
  const plan = jsonLines((await sb.cli(['--json', 'prune', '--dry-run', '--max-unused', '0'])).stdout).find((l) => l.message_type === 'plan');
  assert.deepEqual(plan?.marks, [], 'no mark is left');
  assert.equal(plan?.mark_packs, 0, 'nothing is left to mark');
  const full = await sb.cli(['--json', 'check', '--read-data'], { timeoutMs: 120_000 });
  assertExit(full, 0, 'check --read-data at the end');
  const leftovers = jsonLines(full.stdout).filter((l) => ['pack-unindexed', 'blobs-unused', 'blob-duplicate', 'pack-missing', 'pack-marked-in-use'].includes(l.code as string));
  assert.deepEqual(leftovers, [], `nothing unused is left: ${describe(full)}`);
  for (const [snap, dir] of [[baseSnap, base], [last, work]] as const) {
    const target = sb.path(`restore-final-${snap.slice(0, 8)}`);
    assertExit(await sb.cli(['restore', snap, '--target', target, '--verify'], { timeoutMs: 120_000 }), 0, `restore ${snap}`);
    assertSameTree(dir, join(target, dir), { skipRootTimes: true });
  }
});
