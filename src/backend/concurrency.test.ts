/** Bounded connections: at most N calls in flight, FIFO, abortable waits, listings that do not hog a slot. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FileSource, Handle, OpOptions } from './backend.ts';
import { backendContract } from './contract/contract.ts';
import { Semaphore, withConcurrency } from './concurrency.ts';
import { MemBackend } from './mem/mem-backend.ts';
import { PACES_STREAMS } from './rate-limit.ts';

/** Counts calls in flight; each call takes a few macrotasks. */
class SlowBackend extends MemBackend {
  now = 0;
  peak = 0;
  async #enter<T>(fn: () => Promise<T>): Promise<T> {
    this.now++;
    this.peak = Math.max(this.peak, this.now);
    try {
      await new Promise((r) => setTimeout(r, 2));
      return await fn();
    } finally {
      this.now--;
    }
  }
  override save(h: Handle, d: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    return this.#enter(() => super.save(h, d, o));
  }
  override load(h: Handle, r?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    return this.#enter(() => super.load(h, r, o));
  }
}

const h = (): Handle => ({ type: 'pack', name: randomBytes(32).toString('hex') });

backendContract('concurrency(mem)', async () => ({ backend: withConcurrency(2)(new MemBackend()), dispose: async () => {} }));

test('no more than N calls reach the backend at once', async () => {
  const inner = new SlowBackend();
  const be = withConcurrency(3)(inner);
  const names = Array.from({ length: 30 }, h);
  await Promise.all(names.map((n) => be.save(n, Buffer.from('x'))));
  await Promise.all(names.map((n) => be.load(n)));
  assert.equal(inner.peak, 3);
});

test('waiters are served in order, and one that aborts leaves the queue', async () => {
  const sem = new Semaphore(1);
  const release = await sem.acquire();
  const order: number[] = [];
  const ac = new AbortController();
  const a = sem.acquire().then((r) => (order.push(1), r()));
  const b = sem.acquire(ac.signal).then((r) => (order.push(2), r()));
  const c = sem.acquire().then((r) => (order.push(3), r()));
  ac.abort();
  await assert.rejects(b, (e: unknown) => (e as { code?: string }).code === 'ABORTED');
  release();
  await Promise.all([a, c]);
  assert.deepEqual(order, [1, 3]);
  assert.equal(sem.held, 0);
});

test('a listing holds a slot only while it fetches, so its consumer can use the backend', async () => {
  const mem = new MemBackend();
  const names = Array.from({ length: 5 }, h);
  for (const n of names) await mem.save(n, Buffer.from('y'));
  const be = withConcurrency(1)(mem);
  let loaded = 0;
  for await (const f of be.list('pack')) {
    await be.load({ type: 'pack', name: f.name });
    loaded++;
  }
  assert.equal(loaded, 5);
});

test('stream pacing of the inner backend shows through', () => {
  const inner = Object.assign(new MemBackend(), { [PACES_STREAMS]: true });
  assert.equal((withConcurrency(2)(inner) as { [PACES_STREAMS]?: boolean })[PACES_STREAMS], true);
  assert.equal((withConcurrency(2)(new MemBackend()) as { [PACES_STREAMS]?: boolean })[PACES_STREAMS], undefined);
});
