import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../errors.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { PackNotFoundError } from './pack-ids.ts';
import { repairPacks } from './repair-packs.ts';
import { everything, type Fixture, makeFixture, mutate, names, recorder } from './test-fixture.ts';

/** Flips a byte in the middle of blob `name`'s box inside its pack. */
async function damageBlob(f: Fixture, name: string): Promise<void> {
  const loc = f.repo.lookupBlob(Buffer.from(f.blobs.get(name)!, 'hex'))!;
  await mutate(f.backend, { type: 'pack', name: loc.pack }, (b) => {
    const at = loc.offset + Math.floor(loc.length / 2);
    b[at] = (b[at] ?? 0) ^ 1;
    return b;
  });
}

const hexId = (f: Fixture, name: string): Buffer => Buffer.from(f.blobs.get(name)!, 'hex');

test('repair packs: finds the damaged pack, salvages the good blobs, drops the damaged pack and its index entries', async () => {
  const f = await makeFixture();
  await damageBlob(f, 'a.bin');
  const oldIndex = await names(f.backend, 'index');
  const r = recorder();
  const s = await repairPacks(f.repo, { onEvent: r.onEvent });
  assert.equal(s.packsVerified, 2);
  assert.equal(s.packs.length, 1);
  const p = s.packs[0]!;
  assert.equal(p.pack, f.dataPack);
  assert.equal(p.salvage, 2);
  assert.equal(p.lost, 1);
  assert.deepEqual(p.lostBlobs, [{ id: f.blobs.get('a.bin'), type: 'data' }]);
  assert.equal(s.salvaged, 2);
  assert.equal(s.packsWritten, 1);
  assert.equal(s.packsRemoved, 1);

  const packs = await names(f.backend, 'pack');
  assert.ok(!packs.includes(f.dataPack), 'the damaged pack is gone');
  assert.ok(packs.includes(f.treePack));
  assert.ok((await names(f.backend, 'index')).every((n) => !oldIndex.includes(n)), 'the index file that listed it was replaced');
  assert.equal(f.repo.lookupBlob(hexId(f, 'a.bin')), undefined);
  assert.equal((await f.repo.loadBlob(hexId(f, 'b.bin'))).length, 3000);
  const repo = await f.reopen();
  assert.equal((await repo.loadBlob(hexId(f, 'c.bin'))).length, 3000, 'a fresh process sees the salvaged blobs');
  assert.equal(repo.lookupBlob(Buffer.from(f.rootTree, 'hex'))?.pack, f.treePack);

  // the order of events: plan, new pack, its index (through the repository), replacement index, removals
  const kinds = r.events.filter((e) => e.type === 'packs-plan' || e.type === 'written' || e.type === 'removed').map((e) => (e.type === 'packs-plan' ? 'plan' : `${e.type} ${e.fileType}`));
  assert.deepEqual(kinds, ['plan', 'written pack', 'written index', 'removed index', 'removed pack']);
  const again = await repairPacks(repo, { onEvent: recorder().onEvent });
  assert.equal(again.packs.length, 0, 'nothing left to repair');
  await f.done();
});

test('repair packs: a truncated pack (header lost) is salvaged through its index entries', async () => {
  const f = await makeFixture();
  await mutate(f.backend, { type: 'pack', name: f.dataPack }, (b) => b.subarray(0, b.length - 30));
  const s = await repairPacks(f.repo, { onEvent: recorder().onEvent, packs: [f.dataPack.slice(0, 10)] });
  assert.equal(s.packs[0]?.salvage, 3);
  assert.equal(s.lost, 0);
  assert.match(s.packs[0]!.reasons.join(' '), /header is unreadable/);
  for (const n of ['a.bin', 'b.bin', 'c.bin']) assert.equal((await f.repo.loadBlob(hexId(f, n))).length, 3000);
  await f.done();
});

test('repair packs: a damaged blob with a copy in another pack is not lost', async () => {
  const f = await makeFixture();
  const plain = await f.repo.loadBlob(hexId(f, 'a.bin'));
  const pb = new PackBuilder(f.repo.sealer);
  pb.addPayload(hexId(f, 'a.bin'), 'data', encodePayload(plain, { level: 0 }), plain.length);
  await f.repo.savePack(pb.finish());
  await f.repo.flushIndex();
  await damageBlob(f, 'a.bin');
  const s = await repairPacks(f.repo, { onEvent: recorder().onEvent, dryRun: true });
  assert.equal(s.packs[0]?.lost, 0);
  assert.equal(s.packs[0]?.elsewhere, 1);
  await f.done();
});

test('repair packs --dry-run changes nothing; an intact repository needs nothing', async () => {
  const f = await makeFixture();
  const clean = await repairPacks(f.repo, { onEvent: recorder().onEvent });
  assert.equal(clean.packs.length, 0);
  await damageBlob(f, 'b.bin');
  const before = await everything(f.backend);
  const s = await repairPacks(f.repo, { onEvent: recorder().onEvent, dryRun: true });
  assert.equal(s.packs[0]?.lost, 1);
  assert.equal(s.salvaged, 0);
  assert.deepEqual(await everything(f.backend), before);
  await f.done();
});

test('repair packs: unknown or malformed pack ids are refused before anything is read', async () => {
  const f = await makeFixture();
  await assert.rejects(repairPacks(f.repo, { onEvent: recorder().onEvent, packs: ['0'.repeat(64)] }), PackNotFoundError);
  await assert.rejects(repairPacks(f.repo, { onEvent: recorder().onEvent, packs: ['not-hex'] }), UsageError);
  await f.done();
});
