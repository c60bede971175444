import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortedError, IntegrityError, InvalidInputError } from '../errors.ts';
import { type Backend, type FileInfo, type Handle, NotFoundError, type OpOptions, PermanentError, TransientError } from './backend.ts';
import { MemBackend } from './mem/mem-backend.ts';
import { type RetryInfo, type RetryOptions, isTransient, withRetry } from './retry.ts';

const H: Handle = { type: 'pack', name: 'ab'.repeat(32) };
const fast = (o: RetryOptions = {}): RetryOptions => ({ baseMs: 1, capMs: 4, sleep: async () => {}, ...o });

/** A backend whose operations are the given functions (mem for the rest). */
function fake(over: Partial<Backend>): Backend {
  const mem = new MemBackend();
  return Object.assign(Object.create(null) as Backend, {
    location: 'fake:',
    save: mem.save.bind(mem),
    load: mem.load.bind(mem),
    stat: mem.stat.bind(mem),
    list: mem.list.bind(mem),
    remove: mem.remove.bind(mem),
    create: mem.create.bind(mem),
    close: mem.close.bind(mem),
    ...over,
  });
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** A call that never settles on its own; rejects with AbortedError when its signal aborts. */
function hanging(o?: OpOptions): Promise<never> {
  return new Promise((_, reject) => o?.signal?.addEventListener('abort', () => reject(new AbortedError('aborted by timeout'))));
}

test('classification: transient codes and TransientError retry; classified and unknown errors do not', () => {
  for (const e of [new TransientError('x'), errno('EAGAIN'), errno('ETIMEDOUT'), errno('ECONNRESET'), errno('EPIPE'), errno('EIO'), errno('EBUSY'),
    new Error('wrapped', { cause: errno('ECONNRESET') }), Object.assign(new Error('t'), { name: 'TimeoutError' })]) {
    assert.equal(isTransient(e), true, String(e));
  }
  for (const e of [new NotFoundError('x'), new PermanentError('x', { cause: errno('EIO') }), new AbortedError(), new IntegrityError('x'),
    new InvalidInputError('x'), errno('ENOSPC'), errno('EACCES'), new TypeError('bug'), 'a string', undefined]) {
    assert.equal(isTransient(e), false, String(e));
  }
});

test('gives up after the configured attempts with the last error; backoff doubles up to the cap with full jitter', async () => {
  let calls = 0;
  const delays: number[] = [];
  const infos: RetryInfo[] = [];
  const b = withRetry(fast({ attempts: 6, baseMs: 10, capMs: 50, random: () => 0.999, sleep: async (ms) => void delays.push(ms), onRetry: (i) => infos.push(i) }))(
    fake({ load: async () => { throw new TransientError(`failure ${++calls}`); } }),
  );
  await assert.rejects(b.load(H), (e: Error) => e instanceof TransientError && e.message === 'failure 6');
  assert.equal(calls, 6);
  assert.deepEqual(delays, [9, 19, 39, 49, 49]);
  assert.deepEqual(infos.map((i) => [i.op, i.attempt]), [['load', 1], ['load', 2], ['load', 3], ['load', 4], ['load', 5]]);
  assert.equal(infos[0]?.target, `pack/${H.name}`);
  const zero: number[] = [];
  const z = withRetry(fast({ attempts: 3, random: () => 0, sleep: async (ms) => void zero.push(ms) }))(fake({ stat: async () => { throw errno('EAGAIN'); } }));
  await assert.rejects(z.stat(H), { code: 'EAGAIN' });
  assert.deepEqual(zero, [0, 0]);
});

test('a transient failure followed by success returns the result', async () => {
  let calls = 0;
  const b = withRetry(fast())(fake({ load: async () => (++calls < 3 ? Promise.reject(errno('ECONNRESET')) : new Uint8Array([1, 2])) }));
  assert.deepEqual(await b.load(H), new Uint8Array([1, 2]));
  assert.equal(calls, 3);
});

test('permanent, not-found, integrity, input and unknown errors are not retried', async () => {
  for (const err of [new PermanentError('perm'), new NotFoundError('nf'), new IntegrityError('bad'), new InvalidInputError('bad'), new TypeError('bug'), errno('ENOSPC')]) {
    let calls = 0;
    const b = withRetry(fast())(fake({ stat: async () => { calls++; throw err; } }));
    await assert.rejects(b.stat(H), (e) => e === err);
    assert.equal(calls, 1, err.message);
  }
});

test('an abort during the backoff sleep ends the wait at once', async () => {
  const ac = new AbortController();
  let calls = 0;
  const b = withRetry({ baseMs: 60_000, capMs: 60_000, random: () => 1 })(fake({ load: async () => { calls++; throw new TransientError('flaky'); } }));
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(b.load(H, undefined, { signal: ac.signal }), AbortedError);
  assert.ok(Date.now() - t0 < 2000, 'aborted promptly');
  assert.equal(calls, 1);
  // an injected sleep that ignores the signal does not hold the abort up either
  const ac2 = new AbortController();
  const c = withRetry({ baseMs: 60_000, random: () => 1, sleep: () => new Promise(() => {}) })(fake({ load: async () => { throw new TransientError('flaky'); } }));
  setTimeout(() => ac2.abort(), 10);
  await assert.rejects(c.load(H, undefined, { signal: ac2.signal }), AbortedError);
  // already aborted: no attempt is retried
  const b2 = withRetry(fast())(fake({ load: async (_h, _r, o) => { if (o?.signal?.aborted) throw new AbortedError(); throw new TransientError('x'); } }));
  await assert.rejects(b2.load(H, undefined, { signal: AbortSignal.abort() }), AbortedError);
});

test('a call that does not settle in time is aborted through its signal and retried; its late rejection is swallowed', async () => {
  let calls = 0;
  const signals: AbortSignal[] = [];
  const b = withRetry(fast({ timeoutMs: 20 }))(
    fake({
      load: (_h, _r, o) => {
        calls++;
        if (o?.signal) signals.push(o.signal);
        if (calls === 1) return hanging(o);
        // ignores its signal and rejects late: must not surface as an unhandled rejection
        if (calls === 2) return new Promise((_, reject) => setTimeout(() => reject(new Error('late failure')), 60));
        return Promise.resolve(new Uint8Array([7]));
      },
    }),
  );
  assert.deepEqual(await b.load(H), new Uint8Array([7]));
  assert.equal(calls, 3);
  assert.equal(signals[0]?.aborted, true);
  assert.equal(signals[1]?.aborted, true);
  assert.equal(signals[2]?.aborted, false);
  await new Promise((r) => setTimeout(r, 80));
  // the caller's abort reaches a call in flight, and is final
  const ac = new AbortController();
  const c = withRetry(fast({ timeoutMs: 10_000 }))(fake({ stat: (_h, o) => hanging(o) }));
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(c.stat(H, { signal: ac.signal }), AbortedError);
  // every attempt times out: the last error is the timeout
  const d = withRetry(fast({ timeoutMs: 5, attempts: 3 }))(fake({ stat: (_h, o) => hanging(o) }));
  await assert.rejects(d.stat(H), (e: Error) => e instanceof TransientError && /no answer within 5 ms/.test(e.message));
});

const info = (name: string): FileInfo => ({ name, size: name.length });

test('a failed listing restarts and yields each name once', async () => {
  let attempts = 0;
  const b = withRetry(fast())(
    fake({
      async *list() {
        attempts++;
        yield info('a');
        yield info('b');
        if (attempts === 1) throw new TransientError('connection dropped');
        yield info('c');
        if (attempts === 2) throw errno('ECONNRESET');
        yield info('b');
        yield info('d');
      },
    }),
  );
  const got: string[] = [];
  for await (const f of b.list('pack')) got.push(f.name);
  assert.deepEqual(got, ['a', 'b', 'c', 'd']);
  assert.equal(attempts, 3);
});

test('a listing gives up after failures in a row without progress; a stalled listing times out', async () => {
  let attempts = 0;
  const b = withRetry(fast({ attempts: 4 }))(fake({ async *list() { attempts++; yield info('a'); throw new TransientError(`fail ${attempts}`); } }));
  const got: string[] = [];
  await assert.rejects(async () => { for await (const f of b.list('index')) got.push(f.name); }, /fail 4/);
  assert.deepEqual(got, ['a']);
  assert.equal(attempts, 4);
  let runs = 0;
  const c = withRetry(fast({ timeoutMs: 20 }))(
    fake({
      async *list(_t, o) {
        runs++;
        yield info('x');
        if (runs === 1) await hanging(o);
        yield info('y');
      },
    }),
  );
  const got2: string[] = [];
  for await (const f of c.list('snapshot')) got2.push(f.name);
  assert.deepEqual(got2, ['x', 'y']);
  // a listing the caller stops early is closed
  let closed = false;
  const d = withRetry(fast())(fake({ async *list() { try { yield info('1'); yield info('2'); } finally { closed = true; } } }));
  for await (const f of d.list('lock')) if (f.name === '1') break;
  assert.equal(closed, true);
});

test('a save retried after it actually stored the file succeeds without storing it again', async () => {
  const mem = new MemBackend();
  let saves = 0;
  const data = new Uint8Array([1, 2, 3]);
  const b = withRetry(fast())(fake({ stat: mem.stat.bind(mem), save: async (h, d, o) => { saves++; await mem.save(h, d, o); if (saves === 1) throw new TransientError('timeout after write'); } }));
  await b.save(H, data);
  assert.equal(saves, 1);
  assert.deepEqual(await mem.load(H), data);
  // a backend that refuses to overwrite, behind a stale stat: "already exists" on a retry is checked and accepted
  const strict = new MemBackend();
  let staleStats = 1;
  let attempts = 0;
  const s = withRetry(fast())(
    fake({
      stat: async (h, o) => { if (staleStats-- > 0) throw new NotFoundError('not visible yet'); return await strict.stat(h, o); },
      save: async (h, d, o) => {
        attempts++;
        if ((await strict.stat(h).catch(() => undefined)) !== undefined) throw Object.assign(new Error(`${h.name} already exists`), { code: 'EEXIST' });
        await strict.save(h, d, o);
        throw new TransientError('reply lost');
      },
    }),
  );
  await s.save(H, data);
  assert.equal(attempts, 2);
  // the first attempt's "already exists" is the caller's business
  await assert.rejects(s.save(H, data), { code: 'EEXIST' });
  // a timed-out save that lands late is waited for (briefly) and found, not raced by a second save
  const slow = new MemBackend();
  let slowSaves = 0;
  const late = withRetry(fast({ timeoutMs: 20 }))(
    fake({ stat: slow.stat.bind(slow), save: async (h, d) => { if (slowSaves++ > 0) throw new Error('source already moved'); await new Promise((r) => setTimeout(r, 30)); await slow.save(h, d); } }),
  );
  await late.save(H, data);
  assert.equal(slowSaves, 1);
  assert.deepEqual(await slow.load(H), data);
  // a file of another size under the name (a torn write) is saved again
  const torn = new MemBackend();
  await torn.save(H, new Uint8Array([9]));
  let n = 0;
  const t = withRetry(fast())(fake({ stat: torn.stat.bind(torn), save: async (h, d, o) => { if (n++ === 0) throw errno('EPIPE'); await torn.save(h, d, o); } }));
  await t.save(H, data);
  assert.deepEqual(await torn.load(H), data);
});

test('the wrapper keeps location and spoolDir and passes close through', async () => {
  let closed = false;
  const b = withRetry()(Object.assign(fake({ close: async () => void (closed = true) }), { spoolDir: '/spool', location: 'x:' }));
  assert.equal(b.location, 'x:');
  assert.equal(b.spoolDir, '/spool');
  await b.close();
  assert.equal(closed, true);
  assert.equal(withRetry()(new MemBackend()).spoolDir, undefined);
});
