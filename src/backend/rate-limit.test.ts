/** --limit-upload / --limit-download: the token bucket and the wrapper, measured on a fake clock. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Backend, FileSource, Handle } from './backend.ts';
import { MemBackend } from './mem/mem-backend.ts';
import { type Clock, PACE_CHUNK, PACES_STREAMS, type PacedOpOptions, TokenBucket, withRateLimit } from './rate-limit.ts';

/**
 * Virtual time: a sleep jumps the clock to its wake-up instant (never back), so overlapping sleeps overlap as they
 * would in real time. `now` is in ms.
 */
class FakeClock implements Clock {
  t = 0;
  sleeps = 0;
  now = (): number => this.t;
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps++;
    const wake = this.t + ms;
    await Promise.resolve();
    if (signal?.aborted) throw Object.assign(new Error('aborted'), { code: 'ABORTED' });
    this.t = Math.max(this.t, wake);
  };
}

const KiB = 1024;
const h = (): Handle => ({ type: 'pack', name: randomBytes(32).toString('hex') });

test('token bucket: a burst is free, then bytes move at the rate; idle time refills only up to the burst', async () => {
  const clock = new FakeClock();
  const b = new TokenBucket(100 * KiB, 64 * KiB, clock);
  await b.take(64 * KiB);
  assert.equal(clock.now(), 0, 'the burst is free');
  await b.take(100 * KiB);
  assert.equal(clock.now(), 1000);
  clock.t += 60_000; // a minute idle
  await b.take(64 * KiB);
  assert.equal(clock.now(), 61_000, 'refilled to the burst only');
  await b.take(50 * KiB);
  assert.equal(clock.now(), 61_500);
});

test('upload limit on a plain backend: sequential and concurrent saves average the limit', async () => {
  for (const parallel of [false, true]) {
    const clock = new FakeClock();
    const be = withRateLimit({ uploadBytesPerSec: 100 * KiB }, clock)(new MemBackend());
    await be.create();
    const saves = Array.from({ length: 20 }, () => randomBytes(64 * KiB));
    if (parallel) await Promise.all(saves.map((d) => be.save(h(), d)));
    else for (const d of saves) await be.save(h(), d);
    // 1280 KiB at 100 KiB/s, less the 64 KiB burst
    assert.equal(Math.round(clock.now()), Math.round(((1280 - 64) / 100) * 1000), `parallel=${parallel}`);
  }
});

test('download limit: ranged loads pay before, whole loads after; uploads are not slowed by it', async () => {
  const clock = new FakeClock();
  const mem = new MemBackend();
  await mem.create();
  const name = h();
  await mem.save(name, randomBytes(512 * KiB));
  const be = withRateLimit({ downloadBytesPerSec: 256 * KiB }, clock)(mem);
  await be.save(h(), randomBytes(10 * 1024 * KiB));
  assert.equal(clock.now(), 0);
  await be.load(name); // 512 KiB: 128 KiB burst, debt of 384 KiB
  assert.equal(clock.now(), 1500);
  await be.load(name, { offset: 0, length: 256 * KiB });
  assert.equal(clock.now(), 2500);
});

/** A backend that moves bodies in PACE_CHUNK pieces and calls the pacers, as the REST backend does. */
class StreamingBackend extends MemBackend {
  readonly [PACES_STREAMS] = true;
  pieces = 0;
  override async save(hd: Handle, data: Uint8Array | FileSource, o?: PacedOpOptions): Promise<void> {
    const bytes = data as Uint8Array;
    for (let off = 0; off < bytes.length; off += PACE_CHUNK) {
      await o?.paceUpload?.(Math.min(PACE_CHUNK, bytes.length - off), o.signal);
      this.pieces++;
    }
    await super.save(hd, data, o);
  }
}

test('a stream-pacing backend gets pacers and is paced piece by piece, at the limit', async () => {
  const clock = new FakeClock();
  const inner = new StreamingBackend();
  const be = withRateLimit({ uploadBytesPerSec: 1024 * KiB }, clock)(inner);
  await be.create();
  await be.save(h(), randomBytes(10 * 1024 * KiB));
  assert.equal(inner.pieces, 160);
  // 10 MiB at 1 MiB/s less the burst (half a second's worth)
  assert.equal(clock.now(), 9500);
  assert.ok(clock.sleeps >= 100, 'many small waits, not one big one');
});

test('an abort while waiting for the limit rejects and gives the bytes back', async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(100 * KiB, 64 * KiB, clock);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(bucket.take(1024 * KiB, ac.signal));
  const ac2 = new AbortController();
  const p = bucket.take(1024 * KiB, ac2.signal);
  ac2.abort();
  await assert.rejects(p);
  await bucket.take(64 * KiB);
  assert.equal(clock.now(), 0, 'the aborted take left no debt');
});

test('no limits: the backend is returned unwrapped', () => {
  const mem: Backend = new MemBackend();
  assert.equal(withRateLimit({})(mem), mem);
});
