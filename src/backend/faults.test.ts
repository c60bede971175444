import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortedError } from '../errors.ts';
import { type Backend, type Handle, PermanentError, TransientError } from './backend.ts';
import { type FaultInfo, type FaultOptions, seededRandom, withFaults } from './faults.ts';
import { MemBackend } from './mem/mem-backend.ts';

const h = (i: number, type: Handle['type'] = 'pack'): Handle => ({ type, name: i.toString(16).padStart(64, '0') });

async function outcomes(o: FaultOptions, n: number): Promise<string[]> {
  const mem = new MemBackend();
  for (let i = 0; i < n; i++) await mem.save(h(i), new Uint8Array([i]));
  const b = withFaults(o)(mem);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await b.load(h(i)).then(() => 'ok', (e: Error) => e.constructor.name));
  return out;
}

test('the generator is seeded and uniform enough', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, seededRandom(8)));
});

test('faults strike at the given rate, deterministically per seed', async () => {
  const o: FaultOptions = { rate: 0.2, kinds: ['transient', 'permanent'], seed: 42 };
  const first = await outcomes(o, 500);
  assert.deepEqual(await outcomes(o, 500), first);
  const failed = first.filter((x) => x !== 'ok').length;
  assert.ok(failed > 60 && failed < 140, `${failed} of 500 failed`);
  assert.ok(first.includes('TransientError') && first.includes('PermanentError'));
  assert.deepEqual(new Set(await outcomes({ rate: 0, seed: 1 }, 100)), new Set(['ok']));
  assert.deepEqual(new Set(await outcomes({ rate: 1, kinds: ['permanent'] }, 50)), new Set(['PermanentError']));
  // ops not listed are never struck
  assert.deepEqual(new Set(await outcomes({ rate: 1, ops: ['save'] }, 50)), new Set(['ok']));
});

test('a timeout fault hangs until the signal aborts, or fails transiently after hangMs', async () => {
  const b = withFaults({ rate: 1, kinds: ['timeout'], hangMs: 30 })(new MemBackend());
  const ac = new AbortController();
  const p = b.stat(h(1), { signal: ac.signal });
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(p, AbortedError);
  await assert.rejects(b.stat(h(1)), (e: Error) => e instanceof TransientError && /injected timeout/.test(e.message));
  await assert.rejects(b.load(h(1), undefined, { signal: AbortSignal.abort() }), AbortedError);
});

test('save faults strike before or after the inner save succeeded', async () => {
  const mem = new MemBackend();
  const seen: FaultInfo[] = [];
  const b = withFaults({ rate: 1, kinds: ['transient'], seed: 3, onFault: (f) => seen.push(f) })(mem);
  for (let i = 0; i < 40; i++) await assert.rejects(b.save(h(i), new Uint8Array([i])), TransientError);
  const after = seen.filter((f) => f.when === 'after').length;
  assert.ok(after > 5 && after < 35, `${after} of 40 after`);
  for (const [i, f] of seen.entries()) {
    const stored = await mem.stat(h(i)).then(() => true, () => false);
    assert.equal(stored, f.when === 'after', `save ${i} (${f.when})`);
  }
});

test('fail rules make every later call of a kind fail permanently', async () => {
  const b: Backend = withFaults({ fail: [{ op: 'save', type: 'pack', after: 2 }, { op: 'remove', after: 0 }] })(new MemBackend());
  await b.save(h(1), new Uint8Array(1));
  await b.save(h(2), new Uint8Array(1));
  await assert.rejects(b.save(h(3), new Uint8Array(1)), (e: Error) => e instanceof PermanentError && /save pack\/0+3: injected permanent fault/.test(e.message));
  await assert.rejects(b.save(h(4), new Uint8Array(1)), PermanentError);
  await b.save(h(5, 'index'), new Uint8Array(1));
  await b.save(h(6, 'snapshot'), new Uint8Array(1));
  await assert.rejects(b.remove(h(1)), PermanentError);
  assert.equal((await b.stat(h(2))).size, 1);
});

test('a listing fault strikes part way through', async () => {
  const mem = new MemBackend();
  for (let i = 0; i < 20; i++) await mem.save(h(i), new Uint8Array(1));
  const seen: FaultInfo[] = [];
  const b = withFaults({ rate: 1, seed: 5, onFault: (f) => seen.push(f) })(mem);
  const lengths = new Set<number>();
  for (let k = 0; k < 20; k++) {
    let n = 0;
    await assert.rejects(async () => {
      for await (const _ of b.list('pack')) n++;
    }, TransientError);
    lengths.add(n);
  }
  assert.ok(lengths.size > 2, `faults at ${[...lengths]}`);
  assert.ok(seen.every((f) => f.op === 'list' && f.when === 'during'));
});
