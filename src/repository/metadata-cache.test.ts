import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend } from '../backend/backend.ts';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { PackBuilder } from './pack-format.ts';
import { Repository } from './repository.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { encodePayload } from './payload.ts';

const kdf = { memory: 8192, passes: 1, parallelism: 1 };

/** A remote-like backend (no spoolDir) that counts loads per file type. */
function counting(inner: MemBackend): { backend: Backend; loads: Map<string, number> } {
  const loads = new Map<string, number>();
  const backend: Backend = {
    location: 'counting',
    save: (h, d, o) => inner.save(h, d, o),
    load: (h, r, o) => {
      loads.set(h.type, (loads.get(h.type) ?? 0) + 1);
      return inner.load(h, r, o);
    },
    stat: (h, o) => inner.stat(h, o),
    list: (t, o) => inner.list(t, o),
    remove: (h, o) => inner.remove(h, o),
    create: (o) => inner.create(o),
    close: () => inner.close(),
  };
  return { backend, loads };
}

test('remote repositories read snapshots and trees once; check-style fresh reads and damaged copies go to storage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mem = new MemBackend();
  const init = await Repository.init(mem, 'pw', { kdf, catalogPath: join(dir, 'a', 'catalog.db') });
  const tree = encodeTree([]);
  const id = blobIdOf(init.key.id, tree);
  const b = new PackBuilder(init.sealer);
  b.addPayload(id, 'tree', encodePayload(tree, { level: 0 }), tree.length);
  await init.savePack(b.finish());
  await init.flushIndex();
  const snap = await init.saveFile('snapshot', Buffer.from('{"time":"2026-01-01T00:00:00Z","tree":"x","paths":[]}'));
  await init.close();

  const { backend, loads } = counting(mem);
  const repo = await Repository.open(backend, 'pw', { catalogPath: join(dir, 'b', 'catalog.db') });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await repo.loadBlob(id), tree);
    await repo.loadFile('snapshot', snap);
  }
  assert.equal(loads.get('pack'), 1, 'the tree blob was downloaded once');
  assert.equal(loads.get('snapshot'), 1, 'the snapshot file was downloaded once');
  await repo.loadFile('snapshot', snap, undefined, { fresh: true });
  assert.equal(loads.get('snapshot'), 2, 'a fresh read bypasses the cache');

  // a damaged local copy is dropped and fetched again
  const cacheDir = join(dir, 'b', 'metadata');
  for (const kind of ['tree', 'snapshot']) {
    const sub = join(cacheDir, kind);
    for (const d of readdirSync(sub)) for (const f of readdirSync(join(sub, d))) writeFileSync(join(sub, d, f), 'garbage');
  }
  assert.deepEqual(await repo.loadBlob(id), tree);
  await repo.loadFile('snapshot', snap);
  assert.equal(loads.get('pack'), 2);
  assert.equal(loads.get('snapshot'), 3);
  await repo.close();
});
