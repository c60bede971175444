/**
 * Two backups from separate processes into one repository at the same time, plus a prune running beside them,
 * repeated a few times with different timings: nothing is lost. One backup re-stores data whose snapshot was just
 * forgotten, so it dedupes against exactly the blobs the prune wants to delete (docs/design.md §14e).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, describe, jsonLines, writeRandomFile } from './helpers.ts';

function makeData(dir: string, tag: string, big: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < big; i++) writeRandomFile(join(dir, `big-${i}.bin`), 1536 << 10);
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, `small-${i}.txt`), `${tag} ${i}\n`.repeat(1 + (i % 50)));
}

test('two concurrent backups plus a prune: every snapshot restores, check --read-data passes', { timeout: 400_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  for (let round = 0; round < 3; round++) {
    // garbage for the prune: a snapshot of X, forgotten; backup A then stores X's content again
    const x = join(sb.src, `x-${round}`);
    makeData(x, `x${round}`, 6);
    const gone = await sb.backup([x]);
    assert.ok(gone.snapshot_id);
    assertExit(await sb.cli(['forget', gone.snapshot_id]), 0, 'forget X');
    const a = join(sb.src, `a-${round}`);
    cpSync(x, a, { recursive: true });
    makeData(join(a, 'extra'), `a${round}`, 2);
    const b = join(sb.src, `b-${round}`);
    makeData(b, `b${round}`, 6);
    rmSync(x, { recursive: true });

    const ba = collect(sb.spawn(['--json', 'backup', a]), { timeoutMs: 120_000 });
    const bb = collect(sb.spawn(['--json', 'backup', b]), { timeoutMs: 120_000 });
    await sleep(round * 150); // the prune starts before, during and near the end of the backups
    const pr = await sb.cli(['--json', 'prune'], { timeoutMs: 120_000 });
    const [ra, rb] = await Promise.all([ba, bb]);
    for (const [r, what] of [[ra, 'backup a'], [rb, 'backup b'], [pr, 'prune']] as const) {
      assertExit(r, 0, `${what} (round ${round})`);
      assertNoStackTrace(r, what);
    }
    const ps = jsonLines(pr.stdout).find((l) => l.message_type === 'summary');
    t.diagnostic(`round ${round}: prune ${JSON.stringify(ps)}`);
    assertExit(await sb.cli(['check'], { timeoutMs: 120_000 }), 0, `check after round ${round}`);
    for (const [r, dir] of [[ra, a], [rb, b]] as const) {
      const id = (jsonLines(r.stdout).find((l) => l.message_type === 'summary') as { snapshot_id?: string } | undefined)?.snapshot_id;
      assert.ok(id, describe(r));
      const target = sb.path(`restore-${round}-${id.slice(0, 8)}`);
      assertExit(await sb.cli(['restore', id, '--target', target], { timeoutMs: 120_000 }), 0, `restore ${dir}`);
      assertSameTree(dir, join(target, dir), { skipRootTimes: true });
    }
  }
  // a final prune with nothing running sweeps whatever earlier rounds could only mark
  assertExit(await sb.cli(['prune'], { timeoutMs: 120_000 }), 0, 'final prune');
  assertExit(await sb.cli(['check', '--read-data'], { timeoutMs: 120_000 }), 0, 'check --read-data at the end');
  const snaps = JSON.parse((await sb.cli(['--json', 'snapshots'])).stdout) as { paths: string[] }[];
  assert.equal(snaps.length, 6, 'both backups of every round are there');
  for (const s of snaps) {
    const target = sb.path(`final-${s.paths[0]!.replaceAll('/', '_')}`);
    assertExit(await sb.cli(['restore', 'latest', '--path', s.paths[0]!, '--target', target], { timeoutMs: 120_000 }), 0, `final restore ${s.paths[0]}`);
    assertSameTree(s.paths[0]!, join(target, s.paths[0]!), { skipRootTimes: true });
  }
});
