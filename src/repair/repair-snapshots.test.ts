import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blobIdOf } from '../crypto/master-key.ts';
import type { Tree } from '../model/node.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { listSnapshots, SnapshotNotFoundError } from '../repository/snapshots.ts';
import { repairIndex } from './repair-index.ts';
import { repairPacks } from './repair-packs.ts';
import { repairSnapshots } from './repair-snapshots.ts';
import { dirNode, everything, type Fixture, fileNode, makeFixture, mutate, names, recorder } from './test-fixture.ts';

async function damage(f: Fixture, hex: string): Promise<void> {
  const loc = f.repo.lookupBlob(Buffer.from(hex, 'hex'))!;
  await mutate(f.backend, { type: 'pack', name: loc.pack }, (b) => {
    const at = loc.offset + Math.floor(loc.length / 2);
    b[at] = (b[at] ?? 0) ^ 1;
    return b;
  });
  await repairPacks(f.repo, { onEvent: recorder().onEvent });
}

async function tree(f: Fixture, id: string): Promise<Tree> {
  return JSON.parse((await f.repo.loadBlob(Buffer.from(id, 'hex'))).toString('utf8')) as Tree;
}

test('repair snapshots: a file whose blob was lost is removed; the new snapshot records what and where from', async () => {
  const f = await makeFixture();
  await damage(f, f.blobs.get('a.bin')!);
  const r = recorder();
  const s = await repairSnapshots(f.repo, { onEvent: r.onEvent });
  assert.equal(s.repaired, 1);
  const all = await listSnapshots(f.repo);
  assert.equal(all.length, 2, 'the original is kept');
  const fixed = all.find((x) => x.id !== f.snapshot)!;
  assert.equal(fixed.original, f.snapshot);
  assert.deepEqual(fixed.tags, ['t1', 'repaired']);
  assert.deepEqual(fixed.repaired, { removed: ['/src/a.bin'] });
  assert.deepEqual(fixed.paths, ['/src']);
  assert.equal(fixed.time, '2024-01-01T00:00:00.000Z');

  // trees are written as backup writes them: the expected src tree has exactly the id backup would give it
  const root = await tree(f, fixed.tree);
  const srcId = root.nodes[0]!.subtree!;
  const oldSrc = await tree(f, (await tree(f, f.rootTree)).nodes[0]!.subtree!);
  const sub = oldSrc.nodes.find((n) => n.name === 'sub')!.subtree!;
  const expected = encodeTree([fileNode('b.bin', [f.blobs.get('b.bin')!], 3000), dirNode('sub', sub)]);
  assert.equal(srcId, blobIdOf(f.repo.key.id, expected).toString('hex'));

  // a second run: the original is already repaired; --forget removes it
  const again = await repairSnapshots(f.repo, { onEvent: recorder().onEvent, forget: true });
  assert.equal(again.repaired, 0);
  assert.equal(again.alreadyRepaired, 1);
  assert.equal(again.forgotten, 1);
  assert.deepEqual((await listSnapshots(f.repo)).map((x) => x.id), [fixed.id]);
  const third = await repairSnapshots(f.repo, { onEvent: recorder().onEvent, forget: true });
  assert.equal(third.unchanged, 1);
  assert.equal(third.forgotten, 0, 'unchanged snapshots are left alone');
  await f.done();
});

test('repair snapshots: a lost directory tree becomes an empty directory with its metadata', async () => {
  const f = await makeFixture();
  const oldSrc = await tree(f, (await tree(f, f.rootTree)).nodes[0]!.subtree!);
  const sub = oldSrc.nodes.find((n) => n.name === 'sub')!;
  await damage(f, sub.subtree!);
  const s = await repairSnapshots(f.repo, { onEvent: recorder().onEvent, snapshots: [f.snapshot.slice(0, 8)] });
  assert.equal(s.repaired, 1);
  const fixed = (await listSnapshots(f.repo)).find((x) => x.original === f.snapshot)!;
  assert.deepEqual(fixed.repaired?.removed, ['/src/sub/']);
  const src = await tree(f, (await tree(f, fixed.tree)).nodes[0]!.subtree!);
  const emptied = src.nodes.find((n) => n.name === 'sub')!;
  assert.deepEqual({ ...emptied, subtree: undefined }, { ...sub, subtree: undefined });
  assert.deepEqual(await tree(f, emptied.subtree!), { nodes: [] });
  await f.done();
});

test('repair snapshots: an unreadable root tree cannot be repaired and is left alone, even with --forget', async () => {
  const f = await makeFixture();
  await f.backend.remove({ type: 'pack', name: f.treePack });
  await repairIndex(f.repo, { onEvent: recorder().onEvent });
  const r = recorder();
  const s = await repairSnapshots(f.repo, { onEvent: r.onEvent, forget: true });
  assert.equal(s.unrepairable, 1);
  assert.equal(s.forgotten, 0);
  assert.deepEqual(await names(f.backend, 'snapshot'), [f.snapshot]);
  assert.ok(r.events.some((e) => e.type === 'problem' && e.problem.code === 'snapshot-unrepairable'));
  await f.done();
});

test('repair snapshots --dry-run changes nothing; an unknown snapshot is an error', async () => {
  const f = await makeFixture();
  await damage(f, f.blobs.get('c.bin')!);
  const before = await everything(f.backend);
  const r = recorder();
  const s = await repairSnapshots(f.repo, { onEvent: r.onEvent, dryRun: true, forget: true });
  assert.equal(s.repaired, 1);
  assert.equal(s.treesWritten, 0);
  const plan = r.events.find((e) => e.type === 'snapshot-plan');
  assert.deepEqual(plan?.type === 'snapshot-plan' ? plan.plan.removed : undefined, ['/src/sub/c.bin']);
  assert.deepEqual(await everything(f.backend), before);
  await assert.rejects(repairSnapshots(f.repo, { onEvent: recorder().onEvent, snapshots: ['deadbeef'] }), SnapshotNotFoundError);
  await f.done();
});
