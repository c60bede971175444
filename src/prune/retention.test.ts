/**
 * Example plans, computed by hand with restic's rules (internal/data/snapshot_policy.go). Times are given in UTC
 * and the zone in which periods are counted is passed explicitly, so the results do not depend on the TZ the tests
 * run under; the DST cases use Europe/Berlin and America/New_York.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../errors.ts';
import { parseDuration } from './duration.ts';
import type { RetentionPolicy } from './policy.ts';
import { applyPolicy, planRetention, type RetentionSnapshot } from './retention.ts';

interface Snap extends RetentionSnapshot {
  readonly tags?: string[];
}

function snaps(times: readonly string[], extra: Partial<Snap> = {}): Snap[] {
  return times.map((t) => ({ id: t, time: t, hostname: 'h', paths: ['/p'], ...extra }));
}

/** kept ids (newest first) with their reasons joined, and removed ids */
function run(list: readonly Snap[], policy: RetentionPolicy, o: { timeZone?: string; now?: number } = {}): { keep: string[]; remove: string[] } {
  const r = applyPolicy(list, policy, o);
  return { keep: r.reasons.map((k) => `${k.snapshot.id} ${k.matches.join(' + ')}`), remove: r.remove.map((s) => s.id) };
}

test('daily: the newest snapshot of each of the last N days, across a month boundary', () => {
  const list = snaps(['2024-01-30T10:00:00Z', '2024-01-31T09:00:00Z', '2024-01-31T21:00:00Z', '2024-02-01T08:00:00Z', '2024-02-01T20:00:00Z', '2024-02-02T07:00:00Z']);
  assert.deepEqual(run(list, { daily: 3 }), {
    keep: ['2024-02-02T07:00:00Z daily snapshot', '2024-02-01T20:00:00Z daily snapshot', '2024-01-31T21:00:00Z daily snapshot'],
    remove: ['2024-02-01T08:00:00Z', '2024-01-31T09:00:00Z', '2024-01-30T10:00:00Z'],
  });
  const r = applyPolicy(list, { daily: 3 });
  assert.deepEqual(
    r.reasons.map((k) => k.counters),
    [{ daily: 2 }, { daily: 1 }, {}],
  );
});

test('weekly counts ISO weeks: Sunday 2021-01-03 is in 2020-W53, and the oldest is kept while counts remain', () => {
  const list = snaps(['2020-12-28T12:00:00Z', '2020-12-31T12:00:00Z', '2021-01-03T12:00:00Z', '2021-01-04T12:00:00Z', '2021-01-10T12:00:00Z', '2021-01-11T12:00:00Z']);
  assert.deepEqual(run(list, { weekly: 2 }), {
    keep: ['2021-01-11T12:00:00Z weekly snapshot', '2021-01-10T12:00:00Z weekly snapshot'],
    remove: ['2021-01-04T12:00:00Z', '2021-01-03T12:00:00Z', '2020-12-31T12:00:00Z', '2020-12-28T12:00:00Z'],
  });
  assert.deepEqual(run(list, { weekly: 3 }).keep, ['2021-01-11T12:00:00Z weekly snapshot', '2021-01-10T12:00:00Z weekly snapshot', '2021-01-03T12:00:00Z weekly snapshot']);
  // only 3 weeks exist: the 4th count keeps the oldest snapshot (restic >= 0.17), in the same week as the 3rd
  assert.deepEqual(run(list, { weekly: 4 }).keep, [
    '2021-01-11T12:00:00Z weekly snapshot',
    '2021-01-10T12:00:00Z weekly snapshot',
    '2021-01-03T12:00:00Z weekly snapshot',
    '2020-12-28T12:00:00Z oldest weekly snapshot',
  ]);
});

test('monthly and yearly across a year boundary, with counters and several reasons', () => {
  const list = snaps(['2023-11-15T00:00:00Z', '2023-11-30T00:00:00Z', '2023-12-01T00:00:00Z', '2023-12-31T23:00:00Z', '2024-01-01T00:30:00Z', '2024-02-10T00:00:00Z']);
  const r = applyPolicy(list, { monthly: 3, yearly: 2 });
  assert.deepEqual(
    r.reasons.map((k) => [k.snapshot.id, k.matches, k.counters]),
    [
      ['2024-02-10T00:00:00Z', ['monthly snapshot', 'yearly snapshot'], { monthly: 2, yearly: 1 }],
      ['2024-01-01T00:30:00Z', ['monthly snapshot'], { monthly: 1, yearly: 1 }],
      ['2023-12-31T23:00:00Z', ['monthly snapshot', 'yearly snapshot'], {}],
    ],
  );
  assert.deepEqual(
    r.remove.map((s) => s.id),
    ['2023-12-01T00:00:00Z', '2023-11-30T00:00:00Z', '2023-11-15T00:00:00Z'],
  );
  // unlimited keeps every month, and the oldest (same month as the one before it) too
  assert.deepEqual(run(list, { monthly: -1 }).keep, [
    '2024-02-10T00:00:00Z monthly snapshot',
    '2024-01-01T00:30:00Z monthly snapshot',
    '2023-12-31T23:00:00Z monthly snapshot',
    '2023-11-30T00:00:00Z monthly snapshot',
    '2023-11-15T00:00:00Z oldest monthly snapshot',
  ]);
  // in New York 2024-01-01 00:30Z is still 2023-12-31 and 2023-12-01 00:00Z is still November
  assert.deepEqual(run(list, { monthly: 3, yearly: 2 }, { timeZone: 'America/New_York' }).keep, [
    '2024-02-10T00:00:00Z monthly snapshot + yearly snapshot',
    '2024-01-01T00:30:00Z monthly snapshot + yearly snapshot',
    '2023-12-01T00:00:00Z monthly snapshot',
  ]);
});

test('hourly around the fall-back night counts local hours (Europe/Berlin), not UTC hours', () => {
  // 02:10 CEST, 02:50 CEST, 02:10 CET, 02:50 CET, 03:10 CET
  const list = snaps(['2024-10-27T00:10:00Z', '2024-10-27T00:50:00Z', '2024-10-27T01:10:00Z', '2024-10-27T01:50:00Z', '2024-10-27T02:10:00Z']);
  assert.deepEqual(run(list, { hourly: 10 }, { timeZone: 'Europe/Berlin' }), {
    keep: ['2024-10-27T02:10:00Z hourly snapshot', '2024-10-27T01:50:00Z hourly snapshot', '2024-10-27T00:10:00Z oldest hourly snapshot'],
    remove: ['2024-10-27T01:10:00Z', '2024-10-27T00:50:00Z'],
  });
  assert.deepEqual(run(list, { hourly: 10 }, { timeZone: 'UTC' }), {
    keep: ['2024-10-27T02:10:00Z hourly snapshot', '2024-10-27T01:50:00Z hourly snapshot', '2024-10-27T00:50:00Z hourly snapshot', '2024-10-27T00:10:00Z oldest hourly snapshot'],
    remove: ['2024-10-27T01:10:00Z'],
  });
});

test('daily around the spring-forward night counts local days (America/New_York)', () => {
  // 2024-03-09 07:00 EST, 2024-03-09 22:30 EST, 2024-03-10 08:00 EDT
  const list = snaps(['2024-03-09T12:00:00Z', '2024-03-10T03:30:00Z', '2024-03-10T12:00:00Z']);
  assert.deepEqual(run(list, { daily: 2 }, { timeZone: 'America/New_York' }), {
    keep: ['2024-03-10T12:00:00Z daily snapshot', '2024-03-10T03:30:00Z daily snapshot'],
    remove: ['2024-03-09T12:00:00Z'],
  });
  assert.deepEqual(run(list, { daily: 2 }, { timeZone: 'UTC' }), {
    keep: ['2024-03-10T12:00:00Z daily snapshot', '2024-03-09T12:00:00Z daily snapshot'],
    remove: ['2024-03-10T03:30:00Z'],
  });
});

test('keep-within counts back from the newest snapshot with calendar arithmetic, strictly after the cutoff', () => {
  // one month before 2024-03-31 12:00 is "February 31" = 2024-03-02 12:00
  const list = snaps(['2024-03-01T12:00:00Z', '2024-03-02T12:00:00Z', '2024-03-02T12:00:01Z', '2024-03-31T12:00:00Z']);
  assert.deepEqual(run(list, { within: parseDuration('1m') }), {
    keep: ['2024-03-31T12:00:00Z within 1m', '2024-03-02T12:00:01Z within 1m'],
    remove: ['2024-03-02T12:00:00Z', '2024-03-01T12:00:00Z'],
  });
  // a local day before 2024-03-31 12:00 CEST is 23 hours in Berlin
  const dst = snaps(['2024-03-30T10:30:00Z', '2024-03-31T10:00:00Z']);
  assert.deepEqual(run(dst, { within: parseDuration('1d') }, { timeZone: 'Europe/Berlin' }).remove, ['2024-03-30T10:30:00Z']);
  assert.deepEqual(run(dst, { within: parseDuration('1d') }, { timeZone: 'UTC' }).remove, []);
  // hours are exact: 1d2h before 2024-03-31 10:00Z is 2024-03-30 08:00Z
  assert.deepEqual(run(snaps(['2024-03-30T08:00:00Z', '2024-03-30T08:00:00.001Z', '2024-03-31T10:00:00Z']), { within: parseDuration('1d2h') }).remove, ['2024-03-30T08:00:00Z']);
});

test('keep-within-daily keeps the newest snapshot of each day inside the window only', () => {
  const list = snaps(['2024-05-01T09:00:00Z', '2024-05-02T09:00:00Z', '2024-05-02T18:00:00Z', '2024-05-03T08:00:00Z', '2024-05-03T20:00:00Z']);
  assert.deepEqual(run(list, { withinDaily: parseDuration('2d') }), {
    keep: ['2024-05-03T20:00:00Z daily within 2d', '2024-05-02T18:00:00Z daily within 2d'],
    remove: ['2024-05-03T08:00:00Z', '2024-05-02T09:00:00Z', '2024-05-01T09:00:00Z'],
  });
  // once the window reaches the oldest snapshot, that one is kept too ("oldest")
  assert.deepEqual(run(list, { withinDaily: parseDuration('3d') }).keep.at(-1), '2024-05-01T09:00:00Z daily within 3d');
  const one = snaps(['2024-05-03T08:00:00Z', '2024-05-03T20:00:00Z']);
  assert.deepEqual(run(one, { withinDaily: parseDuration('1d') }).keep, ['2024-05-03T20:00:00Z daily within 1d', '2024-05-03T08:00:00Z oldest daily within 1d']);
});

test('a future snapshot is never the reference of keep-within', () => {
  const list = snaps(['2024-01-01T00:00:00Z', '2024-01-05T00:00:00Z', '2030-01-01T00:00:00Z']);
  const now = Date.parse('2024-06-01T00:00:00Z');
  assert.deepEqual(run(list, { within: parseDuration('2d') }, { now }), {
    keep: ['2030-01-01T00:00:00Z within 2d', '2024-01-05T00:00:00Z within 2d'],
    remove: ['2024-01-01T00:00:00Z'],
  });
  // without "now", the newest snapshot is the reference
  assert.deepEqual(run(list, { within: parseDuration('2d') }).remove, ['2024-01-05T00:00:00Z', '2024-01-01T00:00:00Z']);
  // all in the future: restic's reference is the zero time, so everything is within
  assert.deepEqual(run(list, { within: parseDuration('2d') }, { now: Date.parse('2000-01-01T00:00:00Z') }).remove, []);
});

test('keep-last, keep-tag and every matching rule with its reason', () => {
  const list = [
    ...snaps(['2024-01-01T00:00:00Z'], { tags: ['important', 'db'] }),
    ...snaps(['2024-01-02T00:00:00Z'], { tags: ['db'] }),
    ...snaps(['2024-01-03T00:00:00Z']),
    ...snaps(['2024-01-04T00:00:00Z']),
  ];
  assert.deepEqual(run(list, { last: 1, daily: 2, tags: [['important', 'db'], ['db']] }), {
    keep: [
      '2024-01-04T00:00:00Z last snapshot + daily snapshot',
      '2024-01-03T00:00:00Z daily snapshot',
      '2024-01-02T00:00:00Z has tags [db]',
      '2024-01-01T00:00:00Z has tags [important, db] + has tags [db]',
    ],
    remove: [],
  });
  // "" in a tag list matches untagged snapshots only (restic's HasTags)
  assert.deepEqual(run(list, { tags: [['']] }).remove, ['2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z']);
  assert.deepEqual(run(list, { last: -1 }).remove, []);
  // the empty policy keeps nothing (the CLI refuses it unless --unsafe-allow-remove-all)
  assert.equal(run(list, {}).keep.length, 0);
});

test('groups: by host and paths by default, path order does not matter, "" groups everything together', () => {
  const all = [
    { id: 'a1', time: '2024-01-01T00:00:00Z', hostname: 'a', paths: ['/x', '/y'] },
    { id: 'a2', time: '2024-01-02T00:00:00Z', hostname: 'a', paths: ['/y', '/x'] },
    { id: 'b1', time: '2024-01-03T00:00:00Z', hostname: 'b', paths: ['/x', '/y'], tags: ['t'] },
    { id: 'b2', time: '2024-01-04T00:00:00Z', hostname: 'b', paths: ['/z'] },
  ];
  const groups = planRetention(all, { last: 1 });
  assert.deepEqual(
    groups.map((g) => [g.key, g.keep.map((s) => s.id), g.remove.map((s) => s.id)]),
    [
      [{ hostname: 'a', paths: ['/x', '/y'], tags: null }, ['a2'], ['a1']],
      [{ hostname: 'b', paths: ['/x', '/y'], tags: null }, ['b1'], []],
      [{ hostname: 'b', paths: ['/z'], tags: null }, ['b2'], []],
    ],
  );
  const one = planRetention(all, { last: 1 }, { groupBy: { host: false, paths: false, tags: false } });
  assert.deepEqual(
    one.map((g) => [g.key, g.keep.map((s) => s.id)]),
    [[{ hostname: '', paths: null, tags: null }, ['b2']]],
  );
  const byTag = planRetention(all, { last: 1 }, { groupBy: { host: false, paths: false, tags: true } });
  assert.deepEqual(
    byTag.map((g) => [g.key.tags, g.keep.map((s) => s.id)]),
    [
      [[], ['b2']],
      [['t'], ['b1']],
    ],
  );
});

test('bad policies and times are refused', () => {
  assert.throws(() => applyPolicy([], { daily: -2 }), UsageError);
  assert.throws(() => applyPolicy([], { last: 1.5 }), UsageError);
  assert.throws(() => applyPolicy([], { within: parseDuration('-1d') }), UsageError);
  assert.throws(() => applyPolicy(snaps(['yesterday']), { last: 1 }), /invalid time/);
  assert.throws(() => applyPolicy([], { last: 1 }, { timeZone: 'Nowhere/Land' }), UsageError);
});
