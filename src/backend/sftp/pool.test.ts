import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransientError } from '../backend.ts';
import type { ConnectSettings } from './connect.ts';
import { SessionPool } from './pool.ts';
import type { SftpSession } from './session.ts';

interface Fake {
  id: number;
  closed: boolean;
  inFlight: number;
  end(): void;
}

/** A pool over fake sessions; `fail` decides whether the n-th connection attempt fails. */
function pool(size: number, fail: (n: number) => boolean = () => false): { pool: SessionPool; attempts: () => number } {
  let n = 0;
  const open = async (): Promise<SftpSession> => {
    const id = ++n;
    await new Promise((r) => setTimeout(r, 5));
    if (fail(id)) throw new TransientError(`connect ${id} refused`);
    const f: Fake = { id, closed: false, inFlight: 0, end() { this.closed = true; } };
    return f as unknown as SftpSession;
  };
  return { pool: new SessionPool({} as ConnectSettings, size, open), attempts: () => n };
}

test('concurrent callers share one connection attempt', async () => {
  const { pool: p, attempts } = pool(2);
  const got = await Promise.all([p.get(), p.get(), p.get()]);
  assert.equal(attempts(), 1);
  assert.ok(got.every((s) => s === got[0]));
});

test('a busy session makes the pool open a second connection in the background', async () => {
  const { pool: p, attempts } = pool(2);
  const first = (await p.get()) as unknown as Fake;
  first.inFlight = SessionPool.BUSY;
  assert.equal(await p.get(), first as unknown as SftpSession, 'the busy one serves while the second one opens');
  await new Promise((r) => setTimeout(r, 20));
  const second = (await p.get()) as unknown as Fake;
  assert.equal(attempts(), 2);
  assert.notEqual(second.id, first.id);
});

test('an extra connection that fails is not redialled on every call', async () => {
  const { pool: p, attempts } = pool(3, (n) => n > 1);
  const first = (await p.get()) as unknown as Fake;
  first.inFlight = 100;
  for (let i = 0; i < 20; i++) {
    assert.equal(await p.get(), first as unknown as SftpSession);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(attempts() <= 3, `attempts: ${attempts()}`);
});

test('a closed session is replaced; a failed first connection is reported to the caller', async () => {
  const { pool: p, attempts } = pool(1, (n) => n === 2);
  const first = (await p.get()) as unknown as Fake;
  first.closed = true;
  await assert.rejects(p.get(), /connect 2 refused/);
  const third = (await p.get()) as unknown as Fake;
  assert.equal(third.id, 3);
  assert.equal(attempts(), 3);
  p.close();
  assert.equal(third.closed, true);
  await assert.rejects(p.get(), /closed/);
});
