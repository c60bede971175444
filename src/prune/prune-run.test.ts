import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blobIdOf } from '../crypto/master-key.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { acquireLock } from '../repository/locker.ts';
import { decodeIndexDirFile } from '../repository/mark-format.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { saveSnapshot } from '../repository/snapshots.ts';
import { dirNode, type Fixture, fileNode, makeFixture, names } from '../repair/test-fixture.ts';
import type { PruneEvent } from './prune-events.ts';
import { prune } from './prune-run.ts';

const quiet = (): ((e: PruneEvent) => void) => () => {};
const hex = (f: Fixture, name: string): Buffer => Buffer.from(f.blobs.get(name)!, 'hex');

async function markFiles(f: Fixture): Promise<string[]> {
  const out: string[] = [];
  for (const name of await names(f.backend, 'index')) if (decodeIndexDirFile(await f.repo.loadFile('index', name)).kind === 'mark') out.push(name);
  return out;
}

/** A second snapshot whose tree holds only a.bin, stored like a backup would (its own tree pack). */
async function snapshotOfA(f: Fixture): Promise<string> {
  const trees = new PackBuilder(f.repo.sealer);
  const tree = (nodes: Parameters<typeof encodeTree>[0]): string => {
    const plain = encodeTree(nodes);
    const id = blobIdOf(f.repo.key.id, plain);
    trees.addPayload(id, 'tree', encodePayload(plain, { level: 1 }), plain.length);
    return id.toString('hex');
  };
  const root = tree([dirNode('only-a', tree([fileNode('a.bin', [f.blobs.get('a.bin')!], 3000)]))]);
  await f.repo.savePack(trees.finish());
  await f.repo.flushIndex();
  return await saveSnapshot(f.repo, { time: '2024-02-01T00:00:00.000Z', tree: root, paths: ['/only-a'], hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test' });
}

test('prune: nothing unused -> nothing marked, nothing deleted', async () => {
  const f = await makeFixture();
  const before = await names(f.backend, 'pack');
  const s = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s.plan.unusedPacks, 0);
  assert.equal(s.marksWritten, 0);
  assert.deepEqual(await names(f.backend, 'pack'), before);
  await f.done();
});

test('prune on an idle repository: marks and sweeps at once; a dry run changes nothing', async () => {
  const f = await makeFixture();
  await f.backend.remove({ type: 'snapshot', name: f.snapshot });
  const dry = await prune(f.repo, { onEvent: quiet(), dryRun: true });
  assert.equal(dry.plan.unusedPacks, 2);
  assert.equal((await names(f.backend, 'pack')).length, 2, 'the dry run deleted nothing');
  const s = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s.packsDeleted, 2);
  assert.ok(s.bytesFreed > 0);
  assert.deepEqual(await names(f.backend, 'pack'), []);
  assert.deepEqual(await names(f.backend, 'index'), [], 'the index file and the mark are gone');
  assert.equal(f.repo.catalog.hasBlob(hex(f, 'a.bin')), false);
  await f.done();
});

test('prune beside a running backup: marks only; the backup then uses marked blobs; the next prune keeps them', async () => {
  const f = await makeFixture();
  await f.backend.remove({ type: 'snapshot', name: f.snapshot });
  const backup = await acquireLock(f.repo, false);
  const s1 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s1.marksWritten, 1);
  assert.equal(s1.packsDeleted, 0);
  assert.equal(s1.packsPending, 2);
  assert.equal((await markFiles(f)).length, 1);
  // the catalog now ignores the doomed blobs for dedup, but reads still find them
  assert.equal(f.repo.catalog.hasBlob(hex(f, 'a.bin')), false);
  assert.ok(f.repo.catalog.blob(hex(f, 'a.bin')));
  // a backup that started before the mark writes a snapshot that uses the marked blobs, then ends
  const snap = await saveSnapshot(f.repo, { time: '2024-03-01T00:00:00.000Z', tree: f.rootTree, paths: ['/src'], hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test' });
  // a second prune while it still runs: the mark is not swept
  const s2 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s2.packsDeleted, 0);
  assert.equal(s2.plan.marks[0]?.blockers.length, 1);
  await backup.release();
  const s3 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s3.packsDeleted, 0, 'the marked packs are needed again');
  assert.equal(s3.plan.marks[0]?.keepPacks, 2);
  assert.deepEqual(await markFiles(f), [], 'the mark is dropped');
  assert.deepEqual(await names(f.backend, 'pack'), [f.dataPack, f.treePack].sort());
  const repo = await f.reopen();
  assert.equal(repo.catalog.hasBlob(hex(f, 'a.bin')), true, 'live again for dedup');
  assert.equal((await repo.loadBlob(hex(f, 'c.bin'))).length, 3000);
  assert.ok((await names(f.backend, 'snapshot')).includes(snap));
  await f.done();
});

test('prune repacks a partly used pack: used blobs are copied, the old pack goes', async () => {
  const f = await makeFixture();
  await snapshotOfA(f);
  await f.backend.remove({ type: 'snapshot', name: f.snapshot });
  const s = await prune(f.repo, { onEvent: quiet(), maxUnused: { kind: 'bytes', value: 0 } });
  assert.equal(s.plan.repackPacks, 1);
  assert.equal(s.packsWritten, 1);
  const packs = await names(f.backend, 'pack');
  assert.ok(!packs.includes(f.dataPack) && !packs.includes(f.treePack));
  const repo = await f.reopen();
  assert.equal((await repo.loadBlob(hex(f, 'a.bin'))).length, 3000);
  assert.equal(repo.lookupBlob(hex(f, 'b.bin')), undefined);
  const again = await prune(repo, { onEvent: quiet(), maxUnused: { kind: 'bytes', value: 0 } });
  assert.equal(again.plan.unusedPacks + again.plan.repackPacks + again.plan.unindexedPacks, 0, 'nothing left to do');
  await f.done();
});

test('a backup lock holds a sweep back only when it started before the mark (+ margin); any reader lock always does', async () => {
  const f = await makeFixture();
  await f.backend.remove({ type: 'snapshot', name: f.snapshot });
  const backup = await acquireLock(f.repo, 'backup');
  // the mark is written "now": the backup started before it
  const s1 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s1.packsPending, 2);
  // a mark written 20 minutes before the backup started: the backup read the index after the mark, it may go
  const [mark] = await markFiles(f);
  await f.backend.remove({ type: 'index', name: mark! });
  const past = (): number => Date.now() - 20 * 60_000;
  const s2 = await prune(f.repo, { onEvent: quiet(), now: past });
  assert.equal(s2.packsDeleted, 2, 'swept beside a backup that started after the mark');
  await backup.release();

  const g = await makeFixture();
  await g.backend.remove({ type: 'snapshot', name: g.snapshot });
  const reader = await acquireLock(g.repo, false);
  const r1 = await prune(g.repo, { onEvent: quiet(), now: past });
  assert.equal(r1.packsDeleted, 0, 'a restore or check (shared lock) holds every sweep back');
  await reader.release();
  const r2 = await prune(g.repo, { onEvent: quiet() });
  assert.equal(r2.packsDeleted, 2);
  await f.done();
  await g.done();
});

test('a pack no index lists is marked, never deleted in the same step unless nothing runs; an interrupted sweep is finished by the next run', async () => {
  const f = await makeFixture();
  const stray = new PackBuilder(f.repo.sealer);
  stray.addPayload(Buffer.alloc(32, 7), 'data', encodePayload(Buffer.from('x'), { level: 0 }), 1);
  const p = stray.finish();
  await f.backend.save({ type: 'pack', name: p.id }, p.data);
  const backup = await acquireLock(f.repo, 'backup');
  const s1 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s1.plan.unindexedPacks, 1);
  assert.equal(s1.packsPending, 1);
  await backup.release();
  // an interrupted sweep: the pack is gone, the mark remains
  await f.backend.remove({ type: 'pack', name: p.id });
  const s2 = await prune(f.repo, { onEvent: quiet() });
  assert.equal(s2.marksRemoved, 1);
  assert.deepEqual(await markFiles(f), []);
  assert.deepEqual(await names(f.backend, 'pack'), [f.dataPack, f.treePack].sort());
  await f.done();
});

test('prune refuses on a damaged view: an unreadable snapshot', async () => {
  const f = await makeFixture();
  await f.repo.saveFile('snapshot', Buffer.from('not json'));
  await assert.rejects(prune(f.repo, { onEvent: quiet() }), /prune refused: snapshot .* is unreadable/);
  await f.done();
});
