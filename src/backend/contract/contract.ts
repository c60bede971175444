import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Backend, FILE_TYPES, NotFoundError } from '../backend.ts';

/**
 * The one behaviour suite every backend passes. Call it from the backend's own test file with a factory that
 * returns a fresh, empty backend (and cleans up in `dispose`).
 */
export function backendContract(name: string, make: () => Promise<{ backend: Backend; dispose: () => Promise<void> }>): void {
  const withBackend = (title: string, fn: (b: Backend) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const { backend, dispose } = await make();
      try {
        await backend.create();
        await fn(backend);
      } finally {
        await backend.close();
        await dispose();
      }
    });
  };
  const id = (): string => randomBytes(32).toString('hex');
  const collect = async (b: Backend, t: (typeof FILE_TYPES)[number]): Promise<Map<string, number>> => {
    const m = new Map<string, number>();
    for await (const f of b.list(t)) m.set(f.name, f.size);
    return m;
  };

  withBackend('save, load, stat, list, remove round trip for every type', async (b) => {
    for (const type of FILE_TYPES) {
      const name = type === 'config' ? '' : id();
      const data = randomBytes(1000 + Math.floor(Math.random() * 1000));
      await b.save({ type, name }, data);
      assert.deepEqual(Buffer.from(await b.load({ type, name })), data);
      assert.equal((await b.stat({ type, name })).size, data.length);
      assert.equal((await collect(b, type)).get(name), data.length);
      await b.remove({ type, name });
      await assert.rejects(b.load({ type, name }), NotFoundError);
      await assert.rejects(b.stat({ type, name }), NotFoundError);
      assert.equal((await collect(b, type)).has(name), false);
    }
  });

  withBackend('ranged loads return exactly the bytes asked for', async (b) => {
    const name = id();
    const data = randomBytes(100_000);
    await b.save({ type: 'pack', name }, data);
    for (const [offset, length] of [[0, 1], [0, 100_000], [99_999, 1], [12_345, 54_321]] as const) {
      assert.deepEqual(Buffer.from(await b.load({ type: 'pack', name }, { offset, length })), data.subarray(offset, offset + length));
    }
  });

  withBackend('listing many files, and only valid names', async (b) => {
    const names = Array.from({ length: 300 }, id);
    await Promise.all(names.map((n) => b.save({ type: 'pack', name: n }, Buffer.from(n))));
    const listed = await collect(b, 'pack');
    assert.equal(listed.size, 300);
    for (const n of names) assert.equal(listed.get(n), 64);
    assert.equal((await collect(b, 'index')).size, 0);
  });

  withBackend('removing a missing file is not an error; loading one is NotFound', async (b) => {
    await b.remove({ type: 'snapshot', name: id() });
    await assert.rejects(b.load({ type: 'index', name: id() }), NotFoundError);
  });

  withBackend('an aborted signal stops an operation', async (b) => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(b.save({ type: 'lock', name: id() }, Buffer.from('x'), { signal: ac.signal }));
  });

  withBackend('a spooled file saves like bytes, from the spool dir or elsewhere, and is never listed while spooled', async (b) => {
    for (const dir of [b.spoolDir, tmpdir()]) {
      if (dir === undefined) continue;
      await mkdir(dir, { recursive: true });
      const path = join(dir, `.spool-contract-${randomBytes(6).toString('hex')}`);
      const data = randomBytes(70_000);
      await writeFile(path, data);
      assert.equal((await collect(b, 'pack')).size, 0);
      const name = id();
      await b.save({ type: 'pack', name }, { path, size: data.length });
      await rm(path, { force: true });
      assert.deepEqual(Buffer.from(await b.load({ type: 'pack', name })), data);
      assert.deepEqual(Buffer.from(await b.load({ type: 'pack', name }, { offset: 69_000, length: 1000 })), data.subarray(69_000));
      await b.remove({ type: 'pack', name });
    }
  });

  withBackend('empty files round trip', async (b) => {
    const name = id();
    await b.save({ type: 'index', name }, new Uint8Array(0));
    assert.equal((await b.load({ type: 'index', name })).length, 0);
  });
}
