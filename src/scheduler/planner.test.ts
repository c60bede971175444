import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Readings } from './conditions.ts';
import type { LastRun, ProfileRecord } from './daemon-state.ts';
import { dueAt, plan, type PlanInput, type PlanProfile, repositoryKey } from './planner.ts';
import { parseSchedule } from './schedule.ts';

const TZ = 'UTC';
const at = (iso: string): Date => new Date(iso);
const mains: Readings = { loadPerCore: () => 0.1, power: () => 'mains' };
const profile = (name: string, schedule: string, repository = `/srv/${name}`, extra: Partial<PlanProfile> = {}): PlanProfile => ({
  key: `${name}@/c.toml`,
  name,
  schedule: parseSchedule(schedule),
  repository,
  ...extra,
});
const input = (profiles: PlanProfile[], records: Record<string, ProfileRecord>, now: string, extra: Partial<PlanInput> = {}): PlanInput => ({
  profiles,
  records,
  now: at(now),
  running: new Set(),
  maxJobs: 2,
  readings: mains,
  timeZone: TZ,
  ...extra,
});
const ran = (start: string, result: 'ok' | 'failed' = 'ok', end = start): LastRun => ({ start, end, result, exitCode: result === 'ok' ? 0 : 1, trigger: 'schedule' });
const started = (p: ReturnType<typeof plan>): string[] => p.start.map((s) => `${s.key.split('@')[0]}:${s.trigger}`);

test('a calendar profile waits for its first slot after it was first seen, then runs on time', () => {
  const home = profile('home', 'daily 02:00');
  const rec = { [home.key]: { since: '2025-03-01T10:00:00Z' } };
  const before = plan(input([home], rec, '2025-03-02T01:59:00Z'));
  assert.deepEqual(before.start, []);
  assert.equal(before.wakeAt?.toISOString(), '2025-03-02T02:00:00.000Z');
  assert.deepEqual(started(plan(input([home], rec, '2025-03-02T02:00:00Z'))), ['home:schedule']);
  // `every`: due as soon as it is first seen
  const often = profile('often', 'every 6h');
  assert.deepEqual(started(plan(input([often], { [often.key]: { since: '2025-03-01T10:00:00Z' } }, '2025-03-01T10:00:00Z'))), ['often:schedule']);
  // no schedule: never started by the daemon
  assert.equal(dueAt({ ...home, schedule: undefined }, undefined, undefined, at('2025-03-01T00:00:00Z')), undefined);
});

test('catch-up after three days asleep runs once, then the schedule resumes', () => {
  const home = profile('home', 'daily 02:00');
  const six = profile('six', 'every 6h');
  const records: Record<string, ProfileRecord> = {
    [home.key]: { since: '2025-03-01T00:00:00Z', last: ran('2025-03-01T02:00:00Z') },
    [six.key]: { since: '2025-03-01T00:00:00Z', last: ran('2025-03-01T02:00:00Z') },
  };
  // the machine slept from 03:00 on day 1 to 10:00 on day 4: three daily slots and eleven 6-hour slots passed
  const wake = plan(input([home, six], records, '2025-03-04T10:00:00Z'));
  assert.deepEqual(started(wake), ['six:catch-up', 'home:catch-up'], 'the longest overdue first');
  // the runs become the anchors: nothing more is due until the next slot, however many were missed
  records[home.key] = { ...records[home.key], last: ran('2025-03-04T10:00:00Z', 'ok', '2025-03-04T10:03:00Z') };
  records[six.key] = { ...records[six.key], last: ran('2025-03-04T10:00:00Z', 'ok', '2025-03-04T10:01:00Z') };
  const after = plan(input([home, six], records, '2025-03-04T10:05:00Z'));
  assert.deepEqual(after.start, []);
  assert.equal(after.wakeAt?.toISOString(), '2025-03-04T16:00:00.000Z');
  assert.equal(dueAt(home, records[home.key], undefined, at('2025-03-04T10:05:00Z'), TZ)?.at.toISOString(), '2025-03-05T02:00:00.000Z');
});

test('a run by hand counts as the last run', () => {
  const six = profile('six', 'every 6h');
  const records = { [six.key]: { since: '2025-03-01T00:00:00Z', last: ran('2025-03-01T00:00:00Z') } };
  const p = plan(input([six], records, '2025-03-01T07:00:00Z', { manual: { [six.key]: '2025-03-01T05:00:00Z' } }));
  assert.deepEqual(p.start, []);
  assert.equal(p.wakeAt?.toISOString(), '2025-03-01T11:00:00.000Z');
});

test('one job per repository; different repositories in parallel up to the job limit', () => {
  const a = profile('a', 'hourly', '/srv/shared');
  const b = profile('b', 'hourly', 'local:/srv/shared/');
  const c = profile('c', 'hourly', 'sftp:backup@nas:/repo');
  const d = profile('d', 'hourly', 'sftp:backup@nas:/other');
  const since = { since: '2025-03-01T00:00:00Z' };
  const records = { [a.key]: since, [b.key]: since, [c.key]: since, [d.key]: since };
  const p = plan(input([a, b, c, d], records, '2025-03-01T01:00:00Z'));
  assert.deepEqual(started(p), ['a:schedule', 'c:schedule']);
  assert.deepEqual(p.waiting, [
    { key: b.key, reason: 'another job is using its repository' },
    { key: d.key, reason: '2 jobs already running' },
  ]);
  // while a runs, b still waits; c finished, so d starts
  const q = plan(input([a, b, c, d], { ...records, [c.key]: { ...since, last: ran('2025-03-01T01:00:00Z') } }, '2025-03-01T01:02:00Z', { running: new Set([a.key]) }));
  assert.deepEqual(started(q), ['d:catch-up']);
  assert.deepEqual(q.waiting, [{ key: b.key, reason: 'another job is using its repository' }]);
  assert.equal(repositoryKey('local:/srv/x/../shared/'), '/srv/shared');
});

test('deferral by battery and load, with a maximum delay', () => {
  const lap = profile('lap', 'daily 02:00', '/srv/lap', { defer: { onBattery: true, loadAbove: 0.8, maxDelayMs: 2 * 3_600_000 } });
  let power: 'battery' | 'mains' = 'battery';
  let load = 0.1;
  const readings: Readings = { loadPerCore: () => load, power: () => power };
  const records: Record<string, ProfileRecord> = { [lap.key]: { since: '2025-03-01T00:00:00Z' } };
  const first = plan(input([lap], records, '2025-03-01T02:00:00Z', { readings }));
  assert.deepEqual(first.start, []);
  assert.deepEqual(first.defer, [{ key: lap.key, since: '2025-03-01T02:00:00.000Z', reason: 'on battery', until: at('2025-03-01T04:00:00Z') }]);
  assert.equal(first.wakeAt?.toISOString(), '2025-03-01T02:01:00.000Z', 'conditions are looked at again each minute');
  records[lap.key] = { ...records[lap.key], deferred: { since: '2025-03-01T02:00:00.000Z', reason: 'on battery' } };
  // still on battery an hour later: still deferred, the deferral keeps its start
  assert.equal(plan(input([lap], records, '2025-03-01T03:00:00Z', { readings })).defer[0]?.since, '2025-03-01T02:00:00.000Z');
  // plugged in, but the load is high: deferred for the load
  power = 'mains';
  load = 1.5;
  assert.equal(plan(input([lap], records, '2025-03-01T03:30:00Z', { readings })).defer[0]?.reason, 'load 1.50 per core is above 0.8');
  // two hours after the deferral began it runs anyway
  assert.deepEqual(started(plan(input([lap], records, '2025-03-01T04:00:00Z', { readings }))), ['lap:max-delay']);
  // a condition that clears lets it run at once
  load = 0.2;
  assert.deepEqual(started(plan(input([lap], records, '2025-03-01T03:40:00Z', { readings }))), ['lap:catch-up']);
  // a condition is looked at before the repository: a deferral keeps running while another job holds the repository
  const sibling = profile('sib', 'hourly', '/srv/lap');
  load = 1.5;
  const busy = plan(input([lap, sibling], records, '2025-03-01T03:30:00Z', { readings, running: new Set([sibling.key]) }));
  assert.equal(busy.defer[0]?.since, '2025-03-01T02:00:00.000Z');
  load = 0.2;
  const waits = plan(input([lap, sibling], records, '2025-03-01T03:30:00Z', { readings, running: new Set([sibling.key]) }));
  assert.deepEqual(waits.waiting, [{ key: lap.key, reason: 'another job is using its repository' }]);
  // the default maximum delay is 4 hours
  const lap2 = { ...lap, defer: { onBattery: true } };
  power = 'battery';
  assert.equal(plan(input([lap2], records, '2025-03-01T03:00:00Z', { readings })).defer[0]?.until.toISOString(), '2025-03-01T06:00:00.000Z');
});

test('a failed run is retried with backoff, never later than its next slot', () => {
  const home = profile('home', 'daily 02:00');
  const failedAt = (failures: number): ProfileRecord => ({ since: '2025-03-01T00:00:00Z', failures, last: ran('2025-03-01T02:00:00Z', 'failed', '2025-03-01T02:10:00Z') });
  const now = at('2025-03-01T02:11:00Z');
  assert.deepEqual(dueAt(home, failedAt(1), undefined, now, TZ), { at: at('2025-03-01T02:25:00Z'), trigger: 'retry' });
  assert.deepEqual(dueAt(home, failedAt(3), undefined, now, TZ), { at: at('2025-03-01T03:10:00Z'), trigger: 'retry' });
  assert.deepEqual(dueAt(home, failedAt(9), undefined, now, TZ), { at: at('2025-03-01T06:10:00Z'), trigger: 'retry' });
  const hourly = profile('h', 'hourly');
  assert.equal(dueAt(hourly, failedAt(3), undefined, now, TZ)?.at.toISOString(), '2025-03-01T03:00:00.000Z');
  // the failed run itself, as the child recorded it in the profile state, is no run by hand
  assert.equal(dueAt(home, failedAt(1), '2025-03-01T02:00:01.000Z', now, TZ)?.trigger, 'retry');
  // a successful run by hand after the failure ends the retries
  assert.equal(dueAt(home, failedAt(2), '2025-03-01T02:30:00Z', now, TZ)?.at.toISOString(), '2025-03-02T02:00:00.000Z');
});
