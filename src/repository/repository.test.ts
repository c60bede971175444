import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { RepoNotFoundError } from '../backend/backend.ts';
import { PackBuilder } from './pack-format.ts';
import { encodePayload } from './payload.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { Repository } from './repository.ts';
import { WrongPasswordError } from './keyfile.ts';
import { listSnapshots, resolveSnapshot, saveSnapshot, SnapshotNotFoundError } from './snapshots.ts';
import { UsageError } from '../errors.ts';

const kdf = { memory: 8192, passes: 1, parallelism: 1 };

function tmpCatalog(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-cat-'));
  return { path: join(dir, 'catalog.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('init, open with the right password, refuse a wrong one and a missing repository', async () => {
  const b = new MemBackend();
  const c1 = tmpCatalog();
  const repo = await Repository.init(b, 'pw', { kdf, catalogPath: c1.path });
  await repo.close();
  const again = await Repository.open(b, 'pw', { catalogPath: c1.path });
  assert.equal(again.config.id, repo.config.id);
  await again.close();
  await assert.rejects(Repository.open(b, 'nope', { catalogPath: c1.path }), WrongPasswordError);
  await assert.rejects(Repository.open(new MemBackend(), 'pw', { catalogPath: c1.path }), RepoNotFoundError);
  c1.done();
});

test('a second password opens the same repository', async () => {
  const b = new MemBackend();
  const c = tmpCatalog();
  const repo = await Repository.init(b, 'first', { kdf, catalogPath: c.path });
  await repo.addKey('second', kdf);
  await repo.close();
  const r2 = await Repository.open(b, 'second', { catalogPath: c.path });
  assert.deepEqual(r2.key.encrypt, repo.key.encrypt);
  await r2.close();
  c.done();
});

test('packs -> index -> catalog; blobs load back; a fresh catalog rebuilds from index files', async () => {
  const b = new MemBackend();
  const c = tmpCatalog();
  const repo = await Repository.init(b, 'pw', { kdf, catalogPath: c.path });
  const pb = new PackBuilder(repo.sealer);
  const data = Buffer.from('some blob content');
  const id = blobIdOf(repo.key.id, data);
  pb.addPayload(id, 'data', encodePayload(data, { level: 3 }), data.length);
  await repo.savePack(pb.finish());
  assert.equal(repo.catalog.hasBlob(id), false, 'not in the catalog before its index is stored');
  await repo.flushIndex();
  assert.equal(repo.catalog.hasBlob(id), true);
  assert.deepEqual(await repo.loadBlob(id), data);
  await repo.close();
  const c2 = tmpCatalog();
  const r2 = await Repository.open(b, 'pw', { catalogPath: c2.path });
  assert.deepEqual(await r2.loadBlob(id), data);
  await r2.close();
  c.done();
  c2.done();
});

test('snapshots: save, list, resolve latest and prefixes', async () => {
  const b = new MemBackend();
  const c = tmpCatalog();
  const repo = await Repository.init(b, 'pw', { kdf, catalogPath: c.path });
  const base = { tree: 'ab'.repeat(32), paths: ['/x'], hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 't' };
  const id1 = await saveSnapshot(repo, { ...base, time: '2020-01-01T00:00:00.000Z' });
  const id2 = await saveSnapshot(repo, { ...base, time: '2021-01-01T00:00:00.000Z', hostname: 'other' });
  const all = await listSnapshots(repo);
  assert.deepEqual(all.map((s) => s.id), [id1, id2]);
  assert.equal(resolveSnapshot(all, 'latest').id, id2);
  assert.equal(resolveSnapshot(all, 'latest', { hosts: ['h'] }).id, id1);
  assert.equal(resolveSnapshot(all, id1.slice(0, 10)).id, id1);
  assert.throws(() => resolveSnapshot(all, 'zz'), UsageError);
  assert.throws(() => resolveSnapshot(all, '0'.repeat(64)), SnapshotNotFoundError);
  assert.throws(() => resolveSnapshot([], 'latest'), SnapshotNotFoundError);
  await repo.close();
  c.done();
});
