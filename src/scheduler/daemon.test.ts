import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../app/profile/load.ts';
import type { Profile } from '../app/profile/profile.ts';
import type { Readings } from './conditions.ts';
import { type Clock, Daemon, type DaemonConfig, type JobOutcome } from './daemon.ts';
import { type DaemonState, readDaemonState, writeDaemonState } from './daemon-state.ts';

/** A clock that moves only when told; sleepers wake when their time comes or their signal aborts. */
class FakeClock implements Clock {
  t: number;
  readonly sleepers = new Set<{ until: number; wake: () => void }>();
  constructor(iso: string) {
    this.t = Date.parse(iso);
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const s = {
        until: this.t + ms,
        wake: () => {
          this.sleepers.delete(s);
          resolve();
        },
      };
      this.sleepers.add(s);
      signal.addEventListener('abort', s.wake, { once: true });
    });
  }
  /** moves the clock (in one jump, as after a suspend) and lets the daemon react */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const s of this.sleepers) if (s.until <= this.t) s.wake();
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const CONFIG = `[defaults]
password-env = "PW"
paths = ["/data"]
[profiles.a]
repository = "/srv/one"
schedule = "daily 02:00"
[profiles.b]
repository = "/srv/one"
schedule = "daily 02:00"
[profiles.c]
repository = "/srv/two"
schedule = "every 6h"
[profiles.lap]
repository = "/srv/three"
schedule = "daily 12:00"
defer-on-battery = true
max-delay = "2h"
[profiles.manual]
repository = "/srv/four"
`;

function harness(t: { after(fn: () => void): void }, start: string, initial?: DaemonState) {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const parsed = parseConfig(CONFIG, '/etc/pb.toml');
  assert.ok(parsed.config, JSON.stringify(parsed.problems));
  const config: DaemonConfig = { file: '/etc/pb.toml', profiles: [...parsed.config.profiles.values()] };
  const clock = new FakeClock(start);
  const log: string[] = [];
  const started: string[] = [];
  const pending = new Map<string, { finish: (o: JobOutcome) => void; signal: AbortSignal }>();
  let power: 'battery' | 'mains' = 'mains';
  const readings: Readings = { loadPerCore: () => 0, power: () => power };
  const statePath = join(dir, 'state.json');
  if (initial) writeDaemonState(statePath, initial);
  const daemon = new Daemon({
    load: () => config,
    runJob: (p: Profile, _file, signal) =>
      new Promise<JobOutcome>((resolve) => {
        started.push(`${new Date(clock.now()).toISOString().slice(5, 16)} ${p.name}`);
        pending.set(p.name, { finish: resolve, signal });
      }),
    readings,
    statePath,
    log: (level, m) => log.push(`${level} ${m}`),
    clock,
    maxJobs: 2,
    graceMs: 30_000,
    timeZone: 'UTC',
  });
  const ac = new AbortController();
  const finish = async (name: string, o: JobOutcome = { result: 'ok', exitCode: 0, bytesAdded: 100, snapshotId: 'ab'.repeat(32) }): Promise<void> => {
    const j = pending.get(name);
    assert.ok(j, `${name} is running`);
    pending.delete(name);
    j.finish(o);
    await settle();
  };
  return {
    clock,
    log,
    started,
    pending,
    finish,
    state: () => readDaemonState(statePath),
    setPower: (p: 'battery' | 'mains') => (power = p),
    running: daemon.run(ac.signal),
    stop: async () => {
      ac.abort();
      await settle();
    },
  };
}

const H = 3_600_000;

test('daemon: runs on schedule, serializes per repository, catches up once after a long sleep', async (t) => {
  const h = harness(t, '2025-03-01T00:00:00Z');
  await settle();
  // `every 6h` runs when first seen; the daily ones wait for 02:00
  assert.deepEqual(h.started, ['03-01T00:00 c']);
  await h.finish('c');
  await h.clock.advance(2 * H);
  // a and b share a repository: b waits for a
  assert.deepEqual(h.started.slice(1), ['03-01T02:00 a']);
  assert.equal(h.state().profiles['a@/etc/pb.toml']?.running?.trigger, 'schedule');
  await h.clock.advance(10 * 60_000);
  await h.finish('a');
  assert.deepEqual(h.started.slice(2), ['03-01T02:10 b']);
  await h.finish('b', { result: 'failed', exitCode: 11, error: 'repository is already locked' });
  const b = h.state().profiles['b@/etc/pb.toml'];
  assert.deepEqual(b?.last, { start: '2025-03-01T02:10:00.000Z', end: '2025-03-01T02:10:00.000Z', result: 'failed', exitCode: 11, error: 'repository is already locked', trigger: 'schedule' });
  assert.equal(b?.failures, 1);
  // the retry comes 15 minutes later
  await h.clock.advance(15 * 60_000);
  assert.deepEqual(h.started.slice(3), ['03-01T02:25 b']);
  await h.finish('b');
  assert.equal(h.state().profiles['b@/etc/pb.toml']?.failures, 0);

  // the machine sleeps for three days: on wake, each profile runs once, not once per missed slot
  const before = h.started.length;
  await h.clock.advance(3 * 24 * H);
  await h.finish('c');
  await h.finish('a');
  await h.finish('lap');
  await h.finish('b');
  await h.clock.advance(60_000);
  await h.clock.advance(60_000);
  const woke = h.started.slice(before);
  assert.deepEqual(woke.map((s) => s.split(' ')[1]).sort(), ['a', 'b', 'c', 'lap']);
  assert.equal(h.state().profiles['c@/etc/pb.toml']?.last?.trigger, 'catch-up');
  assert.ok(!h.started.some((s) => s.includes('manual')), 'a profile without a schedule never runs');
  await h.stop();
  await h.running;
  assert.ok(h.log.some((l) => /^info a: ok, snapshot abababab, 100 bytes added in 600\.0 s$/.test(l)), h.log.join('\n'));
  assert.ok(h.log.some((l) => l.startsWith('error b: failed (exit 11): repository is already locked')));
  assert.equal(h.log.at(-1), 'info daemon stopped');
});

test('daemon: deferral on battery is shown in the state and ends at the maximum delay', async (t) => {
  const h = harness(t, '2025-03-01T11:00:00Z');
  await settle();
  await h.finish('c');
  h.setPower('battery');
  await h.clock.advance(H);
  assert.ok(!h.pending.has('lap'));
  assert.deepEqual(h.state().profiles['lap@/etc/pb.toml']?.deferred, { since: '2025-03-01T12:00:00.000Z', reason: 'on battery' });
  assert.ok(h.log.includes('info lap: deferred (on battery); runs at 2025-03-01T14:00:00.000Z at the latest'));
  // looked at again every minute, still on battery
  for (let i = 0; i < 5; i++) await h.clock.advance(60_000);
  assert.ok(!h.pending.has('lap'));
  await h.clock.advance(2 * H);
  assert.ok(h.pending.has('lap'));
  const rec = h.state().profiles['lap@/etc/pb.toml'];
  assert.equal(rec?.running?.trigger, 'max-delay');
  assert.equal(rec?.deferred, undefined);
  await h.finish('lap');
  await h.stop();
  await h.running;
});

test('daemon: a stop lets running jobs finish within the grace period, then tells them to stop', async (t) => {
  const h = harness(t, '2025-03-01T00:00:00Z');
  await settle();
  assert.ok(h.pending.has('c'));
  await h.stop();
  // nothing new starts while stopping
  await h.clock.advance(2 * H);
  assert.deepEqual(h.started, ['03-01T00:00 c']);
  const job = h.pending.get('c');
  assert.equal(job?.signal.aborted, true, 'told to stop after the grace period');
  await h.finish('c', { result: 'interrupted', exitCode: 130, error: 'interrupted' });
  await h.running;
  assert.equal(h.state().profiles['c@/etc/pb.toml']?.last?.result, 'interrupted');
  assert.ok(h.log.includes('info stopping: waiting up to 30 s for c'));
  assert.ok(h.log.includes('warn stopping: telling c to stop'));
});

test('daemon: a run left "running" by a daemon that died counts as interrupted and is retried', async (t) => {
  const h = harness(t, '2025-03-01T03:00:00Z', {
    version: 1,
    profiles: {
      'a@/etc/pb.toml': { since: '2025-02-01T00:00:00.000Z', running: { start: '2025-03-01T02:00:00.000Z', trigger: 'schedule' } },
      'c@/etc/pb.toml': { since: '2025-02-01T00:00:00.000Z', last: { start: '2025-03-01T02:30:00.000Z', end: '2025-03-01T02:31:00.000Z', result: 'ok', exitCode: 0, trigger: 'schedule' } },
    },
  });
  await settle();
  const a = h.state().profiles['a@/etc/pb.toml'];
  assert.equal(a?.last?.result, 'interrupted');
  assert.equal(a?.failures, 1);
  assert.ok(h.log.some((l) => l.startsWith('warn a: the run started at 2025-03-01T02:00:00.000Z was interrupted')));
  assert.deepEqual(h.started, []);
  await h.clock.advance(15 * 60_000);
  assert.deepEqual(h.started, ['03-01T03:15 a']);
  await h.finish('a');
  await h.stop();
  await h.running;
});
