/**
 * prune (docs/design.md §14e): frees the space of removed snapshots, a dry run changes nothing, a backup running
 * beside it only lets it mark (the next prune sweeps), a backup that started before the mark and uses marked blobs
 * keeps them, append-only repositories refuse it, and bad flags are usage errors.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { acquireLock } from '../../src/repository/locker.ts';
import { saveSnapshot } from '../../src/repository/snapshots.ts';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, describe, jsonLines, listFiles, writeRandomFile } from './helpers.ts';

interface PruneSummaryJson {
  packs_deleted: number;
  bytes_freed: number;
  packs_written: number;
  marks_written: number;
  marks_removed: number;
  packs_pending: number;
}

async function prune(sb: Sandbox, args: readonly string[] = []): Promise<PruneSummaryJson> {
  const r = await sb.cli(['--json', 'prune', ...args], { timeoutMs: 120_000 });
  assertExit(r, 0, `prune ${args.join(' ')}`);
  assertNoStackTrace(r);
  const s = jsonLines(r.stdout).filter((l) => l.message_type === 'summary');
  assert.equal(s.length, 1, describe(r));
  return s[0] as unknown as PruneSummaryJson;
}

const indexDirFiles = (sb: Sandbox): string[] => readdirSync(join(sb.repo, 'index')).filter((n) => !n.startsWith('.'));
const snapshotIds = (sb: Sandbox): string[] => readdirSync(join(sb.repo, 'snapshots')).filter((n) => !n.startsWith('.'));

/** Makes `dir` with a few random files; returns their total size. */
function makeData(dir: string, files: number, size: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) writeRandomFile(join(dir, `f-${i}.bin`), size);
}

async function restoreSame(sb: Sandbox, snapshot: string, dir: string, what: string): Promise<void> {
  const target = sb.path(`restore-${what}`);
  assertExit(await sb.cli(['restore', snapshot, '--target', target, '--verify'], { timeoutMs: 120_000 }), 0, `restore ${what}`);
  assertSameTree(dir, join(target, dir), { skipRootTimes: true });
}

test('prune frees the data of a removed snapshot; check --read-data passes; the other snapshot restores identically; a dry run changes nothing', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  const keep = join(sb.src, 'keep');
  const gone = join(sb.src, 'gone');
  makeData(keep, 4, 600 << 10);
  makeData(gone, 4, 600 << 10);
  const a = await sb.backup([gone]);
  const b = await sb.backup([keep]);
  rmSync(join(sb.repo, 'snapshots', a.snapshot_id!));

  const before = listFiles(sb.repo);
  const dry = await sb.cli(['prune', '--dry-run']);
  assertExit(dry, 0, 'prune --dry-run');
  assert.match(dry.stdout, /plan \(dry run\)/);
  assert.match(dry.stdout, /to mark: \d+ packs/);
  assert.match(dry.stdout, /dry run: nothing was changed/);
  assert.deepEqual(listFiles(sb.repo), before, 'the dry run changed no file');
  const dryJson = await sb.cli(['--json', 'prune', '--dry-run']);
  const plan = jsonLines(dryJson.stdout).find((l) => l.message_type === 'plan');
  assert.ok(plan && (plan.unused_packs as number) > 0 && plan.dry_run === true, describe(dryJson));
  assert.deepEqual(listFiles(sb.repo), before, 'the --json dry run changed no file');

  const s = await prune(sb);
  assert.ok(s.packs_deleted > 0 && s.bytes_freed > 2 << 20, `freed ${s.bytes_freed} bytes`);
  assert.equal(s.packs_pending, 0, 'nothing else was running: swept at once');
  assert.deepEqual(indexDirFiles(sb).length, 1, 'no mark left, one index file');
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check --read-data after prune');
  await restoreSame(sb, b.snapshot_id!, keep, 'keep');
  const again = await prune(sb);
  assert.equal(again.packs_deleted + again.marks_written, 0, 'a second prune finds nothing');
});

test('prune beside a running backup only marks; the backup finishes and restores; the next prune sweeps', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  const gone = join(sb.src, 'gone');
  makeData(gone, 3, 700 << 10);
  const a = await sb.backup([gone]);
  rmSync(join(sb.repo, 'snapshots', a.snapshot_id!));

  // `backup --stdin` with stdin held open keeps a backup (and its lock) running
  const child = sb.spawn(['--json', 'backup', '--stdin', '--stdin-filename', 'piped']);
  const done = collect(child, { timeoutMs: 120_000, keepStdinOpen: true });
  const piped = Buffer.from('data from a backup that ran while prune marked\n'.repeat(1000));
  child.stdin?.write(piped);
  try {
    for (let i = 0; i < 600 && readdirSync(join(sb.repo, 'locks')).length === 0; i++) await sleep(50);
    assert.equal(readdirSync(join(sb.repo, 'locks')).length, 1, 'the backup holds its lock');
    const s1 = await prune(sb);
    assert.equal(s1.packs_deleted, 0, 'nothing is deleted while a backup that started before the mark runs');
    assert.ok(s1.packs_pending > 0 && s1.marks_written === 1);
    child.stdin?.end();
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const r = await done;
  assertExit(r, 0, 'the concurrent backup');
  const snap = jsonLines(r.stdout).find((l) => l.message_type === 'summary')?.snapshot_id as string;
  const target = sb.path('restore-piped');
  assertExit(await sb.cli(['restore', snap, '--target', target]), 0, 'restore the concurrent backup');
  assert.deepEqual(readFileSync(join(target, 'piped')), piped);

  const s2 = await prune(sb);
  assert.ok(s2.packs_deleted > 0 && s2.marks_removed === 1, JSON.stringify(s2));
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check after the sweep');
  assert.deepEqual(readFileSync(join(target, 'piped')), piped);
});

test('a backup that started before the mark and uses marked blobs keeps them; a backup after the mark stores its own copies', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--pack-size', '1M'] });
  const x = join(sb.src, 'x');
  makeData(x, 3, 500 << 10);
  writeFileSync(join(x, 'small.txt'), 'small\n');
  const a = await sb.backup([x]);
  const repo = await sb.open();
  let body: Snapshot;
  try {
    body = await repo.loadJson<Snapshot>('snapshot', a.snapshot_id!);
    rmSync(join(sb.repo, 'snapshots', a.snapshot_id!));
    // a backup of x starts (its lock predates the mark) and has already deduplicated against A's blobs
    const lock = await acquireLock(repo, 'backup');
    try {
      const s1 = await prune(sb);
      assert.equal(s1.packs_deleted, 0);
      assert.ok(s1.packs_pending > 0, 'A\'s packs are marked');
      // it now writes its snapshot, which references the marked blobs, and ends
      await saveSnapshot(repo, { ...body, time: new Date().toISOString() });
    } finally {
      await lock.release();
    }
  } finally {
    await repo.close();
  }
  const s2 = await prune(sb);
  assert.equal(s2.packs_deleted, 0, 'the marked packs are used again: kept');
  assert.equal(s2.marks_removed, 1);
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check');
  const [snap] = snapshotIds(sb);
  await restoreSame(sb, snap!, x, 'kept');

  // marked data is not deduplicated against: a backup after the mark stores x again (its files cache is purged)
  rmSync(join(sb.repo, 'snapshots', snap!));
  const lock2Repo = await sb.open();
  const lock2 = await acquireLock(lock2Repo, 'backup');
  try {
    const s3 = await prune(sb);
    assert.ok(s3.packs_pending > 0);
  } finally {
    await lock2.release();
    await lock2Repo.close();
  }
  const b = await sb.backup([x]);
  assert.ok(b.data_added >= 1500 << 10, `the backup stored its own copies (${b.data_added} bytes added)`);
  assert.equal(b.files_unmodified, 0, 'no files-cache hit on doomed content');
  const s4 = await prune(sb);
  assert.ok(s4.packs_deleted > 0, 'the old copies go');
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check after the second sweep');
  await restoreSame(sb, b.snapshot_id!, x, 'copied');
});

test('prune in an append-only repository is refused before any work (the dry run shows the plan); bad flags are usage errors', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--append-only'] });
  const d = join(sb.src, 'd');
  makeData(d, 1, 1000);
  const a = await sb.backup([d]);
  rmSync(join(sb.repo, 'snapshots', a.snapshot_id!));
  const before = listFiles(sb.repo);
  const r = await sb.cli(['prune']);
  assertExit(r, 1, 'prune in an append-only repository');
  assert.match(r.stderr, /append-only: prune would delete/);
  assertNoStackTrace(r);
  assert.deepEqual(listFiles(sb.repo), before);
  const dry = await sb.cli(['prune', '--dry-run']);
  assertExit(dry, 0, 'prune --dry-run in an append-only repository');
  assert.match(dry.stdout, /to mark: 2 packs/);

  for (const [args, re] of [
    [['--max-unused', 'lots'], /invalid --max-unused "lots"/],
    [['--max-unused', '150%'], /from 0% to 100%/],
    [['--max-unused', '-1%'], /invalid --max-unused/],
    [['--max-repack-size', '12q'], /invalid size "12q"/],
    [['--bogus'], /unknown option/],
  ] as const) {
    const bad = await sb.cli(['prune', ...args]);
    assertExit(bad, 1, `prune ${args.join(' ')}`);
    assert.match(bad.stderr, re, describe(bad));
    assertNoStackTrace(bad);
  }
  const noLock = await sb.cli(['--no-lock', 'prune']);
  assertExit(noLock, 1, 'prune --no-lock');
  assert.match(noLock.stderr, /--no-lock is only applicable in combination with --dry-run/);
  assert.deepEqual(listFiles(sb.repo), before, 'nothing changed');
});
