import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repairIndex } from './repair-index.ts';
import { everything, makeFixture, mutate, names, recorder } from './test-fixture.ts';

const problems = (events: ReturnType<typeof recorder>['events']): string[] => events.flatMap((e) => (e.type === 'problem' ? [e.problem.code] : []));

test('repair index: a consistent index is left alone; --read-all-packs reads every header and agrees', async () => {
  const f = await makeFixture();
  const before = await names(f.backend, 'index');
  const s = await repairIndex(f.repo, { onEvent: recorder().onEvent });
  assert.equal(s.plan.changed, false);
  assert.equal(s.plan.reused, 2);
  assert.equal(s.indexFilesWritten, 0);
  const all = await repairIndex(f.repo, { onEvent: recorder().onEvent, readAllPacks: true });
  assert.equal(all.plan.fromHeaders, 2);
  assert.equal(all.plan.changed, false);
  assert.deepEqual(await names(f.backend, 'index'), before);
  await f.done();
});

test('repair index: with every index file gone, the index is rebuilt from the pack headers', async () => {
  const f = await makeFixture();
  for (const n of await names(f.backend, 'index')) await f.backend.remove({ type: 'index', name: n });
  const repo = await f.reopen();
  assert.equal(repo.lookupBlob(Buffer.from(f.blobs.get('a.bin')!, 'hex')), undefined, 'the catalog forgot the lost index');
  const r = recorder();
  const s = await repairIndex(repo, { onEvent: r.onEvent });
  assert.equal(s.plan.changed, true);
  assert.equal(s.plan.fromHeaders, 2);
  assert.equal(s.plan.blobs, 6);
  assert.equal(s.indexFilesWritten, 1);
  assert.equal((await names(f.backend, 'index')).length, 1);
  for (const hex of f.blobs.values()) assert.equal((await repo.loadBlob(Buffer.from(hex, 'hex'))).length, 3000);
  // the plan comes before the first write
  const planAt = r.events.findIndex((e) => e.type === 'index-plan');
  const writeAt = r.events.findIndex((e) => e.type === 'written');
  assert.ok(planAt >= 0 && planAt < writeAt);
  const again = await repairIndex(await f.reopen(), { onEvent: recorder().onEvent });
  assert.equal(again.plan.changed, false, 'a second run finds nothing to do');
  await f.done();
});

test('repair index: entries of a missing pack are dropped; the old index file is replaced', async () => {
  const f = await makeFixture();
  const old = await names(f.backend, 'index');
  await f.backend.remove({ type: 'pack', name: f.dataPack });
  const r = recorder();
  const s = await repairIndex(f.repo, { onEvent: r.onEvent });
  assert.deepEqual(s.plan.missing, [f.dataPack]);
  assert.ok(problems(r.events).includes('pack-missing'));
  const now = await names(f.backend, 'index');
  assert.equal(now.length, 1);
  assert.ok(!old.includes(now[0]!), 'a new index file replaced the old one');
  assert.equal(f.repo.lookupBlob(Buffer.from(f.blobs.get('a.bin')!, 'hex')), undefined);
  assert.equal(f.repo.lookupBlob(Buffer.from(f.rootTree, 'hex'))?.pack, f.treePack);
  await f.done();
});

test('repair index: a pack whose header is unreadable is reported; its old entries are kept for repair packs', async () => {
  const f = await makeFixture();
  await mutate(f.backend, { type: 'pack', name: f.dataPack }, (b) => b.subarray(0, b.length - 20));
  const r = recorder();
  const s = await repairIndex(f.repo, { onEvent: r.onEvent });
  assert.deepEqual(s.plan.unreadable, [f.dataPack]);
  assert.ok(problems(r.events).includes('pack-header-unreadable'));
  assert.equal(f.repo.lookupBlob(Buffer.from(f.blobs.get('a.bin')!, 'hex'))?.pack, f.dataPack, 'entries kept');

  // without an index entry, such a pack cannot be indexed at all
  for (const n of await names(f.backend, 'index')) await f.backend.remove({ type: 'index', name: n });
  const repo = await f.reopen();
  const s2 = await repairIndex(repo, { onEvent: recorder().onEvent });
  assert.deepEqual(s2.plan.unreadable, [f.dataPack]);
  assert.equal(s2.plan.blobs, 3, 'only the tree pack is indexed');
  await f.done();
});

test('repair index --dry-run changes nothing', async () => {
  const f = await makeFixture();
  for (const n of await names(f.backend, 'index')) await f.backend.remove({ type: 'index', name: n });
  const repo = await f.reopen();
  const before = await everything(f.backend);
  const s = await repairIndex(repo, { onEvent: recorder().onEvent, dryRun: true });
  assert.equal(s.plan.changed, true);
  assert.equal(s.indexFilesWritten, 0);
  assert.deepEqual(await everything(f.backend), before);
  await f.done();
});
