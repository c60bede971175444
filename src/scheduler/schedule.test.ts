import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatInterval, formatSchedule, nextDue, nextRunAfter, parseInterval, parseSchedule, type Schedule } from './schedule.ts';

const UTC = { timeZone: 'UTC' };
const at = (iso: string): Date => new Date(iso);
const next = (text: string, after: string, tz = UTC): string | undefined => nextRunAfter(parseSchedule(text), at(after), tz)?.toISOString();

test('simple forms parse to their values', () => {
  assert.deepEqual(parseSchedule('hourly'), { kind: 'hourly', minute: 0 });
  assert.deepEqual(parseSchedule('Hourly :15'), { kind: 'hourly', minute: 15 });
  assert.deepEqual(parseSchedule('daily'), { kind: 'daily', hour: 0, minute: 0 });
  assert.deepEqual(parseSchedule('  daily   2:05 '), { kind: 'daily', hour: 2, minute: 5 });
  assert.deepEqual(parseSchedule('weekly mon 03:00'), { kind: 'weekly', days: [1], hour: 3, minute: 0 });
  assert.deepEqual(parseSchedule('weekly Friday,mon'), { kind: 'weekly', days: [1, 5], hour: 0, minute: 0 });
  assert.deepEqual(parseSchedule('weekly mon-fri 18:30'), { kind: 'weekly', days: [1, 2, 3, 4, 5], hour: 18, minute: 30 });
  assert.deepEqual(parseSchedule('weekly fri-mon'), { kind: 'weekly', days: [0, 1, 5, 6], hour: 0, minute: 0 });
  assert.deepEqual(parseSchedule('monthly'), { kind: 'monthly', day: 1, hour: 0, minute: 0 });
  assert.deepEqual(parseSchedule('monthly 15 04:00'), { kind: 'monthly', day: 15, hour: 4, minute: 0 });
  assert.deepEqual(parseSchedule('monthly 04:00'), { kind: 'monthly', day: 1, hour: 4, minute: 0 });
  assert.deepEqual(parseSchedule('every 6h'), { kind: 'every', ms: 6 * 3_600_000 });
  assert.deepEqual(parseSchedule('every 1h 30m'), { kind: 'every', ms: 90 * 60_000 });
  assert.deepEqual(parseSchedule('0 2 * * *'), { kind: 'cron', expression: '0 2 * * *' });
  assert.deepEqual(parseSchedule('@daily'), { kind: 'cron', expression: '@daily' });
});

test('bad schedules are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['sometimes', /unknown form/],
    ['daily 25:00', /no such time of day/],
    ['daily 2am', /expected a time HH:MM/],
    ['daily 02:00 extra', /unexpected "extra"/],
    ['hourly :60', /expected a minute/],
    ['weekly', /name the day/],
    ['weekly mun 03:00', /unknown day "mun"/],
    ['monthly 31', /from 1 to 28/],
    ['every', /give an interval/],
    ['every 6', /no unit after 6/],
    ['every 6x', /unknown unit "x"/],
    ['every 30s', /unknown unit "s"/],
    ['every 0m', /at least one minute/],
    ['every 400d', /longer than a year/],
    ['61 * * * *', /minute/],
    ['0 2 * *', /5 fields/],
    ['0 0 2 * * *', /5 fields/],
    ['0 0 30 2 *', /never matches/],
    ['@sometimes', /invalid schedule/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseSchedule(text), (e: Error) => e.name === 'UsageError' && re.test(e.message) && e.message.includes(JSON.stringify(text)), text);
  }
});

test('next run times from an injected clock, for each form', () => {
  assert.equal(next('hourly', '2026-03-10T10:00:00Z'), '2026-03-10T11:00:00.000Z', 'strictly after');
  assert.equal(next('hourly :15', '2026-03-10T10:20:00Z'), '2026-03-10T11:15:00.000Z');
  assert.equal(next('daily 02:00', '2026-03-10T01:59:00Z'), '2026-03-10T02:00:00.000Z');
  assert.equal(next('daily 02:00', '2026-03-10T02:00:00Z'), '2026-03-11T02:00:00.000Z');
  // 2026-03-10 is a Tuesday
  assert.equal(next('weekly mon 03:00', '2026-03-10T12:00:00Z'), '2026-03-16T03:00:00.000Z');
  assert.equal(next('weekly tue,thu 03:00', '2026-03-10T12:00:00Z'), '2026-03-12T03:00:00.000Z');
  assert.equal(next('monthly 15 04:00', '2026-03-20T00:00:00Z'), '2026-04-15T04:00:00.000Z');
  assert.equal(next('every 6h', '2026-03-10T10:00:00Z'), '2026-03-10T16:00:00.000Z');
  assert.equal(next('30 4 * * 0', '2026-03-10T00:00:00Z'), '2026-03-15T04:30:00.000Z');
  assert.equal(next('@weekly', '2026-03-10T00:00:00Z'), '2026-03-15T00:00:00.000Z');
});

test('calendar schedules follow the time zone, including daylight saving time', () => {
  const berlin = { timeZone: 'Europe/Berlin' };
  assert.equal(next('daily 02:00', '2026-01-10T12:00:00Z', berlin), '2026-01-11T01:00:00.000Z', 'CET = UTC+1');
  assert.equal(next('daily 02:00', '2026-07-10T12:00:00Z', berlin), '2026-07-11T00:00:00.000Z', 'CEST = UTC+2');
  // 2026-03-29 02:00-03:00 does not exist in Berlin: the run happens at the first valid time after the gap
  assert.equal(next('daily 02:30', '2026-03-28T12:00:00Z', berlin), '2026-03-29T01:00:00.000Z');
  assert.throws(() => nextRunAfter(parseSchedule('daily'), at('2026-01-01T00:00:00Z'), { timeZone: 'Mars/Base' }), /time zone Mars\/Base/);
});

test('nextDue: missed runs are due at once; first runs wait for a slot, intervals start at once', () => {
  const now = at('2026-03-10T12:00:00Z');
  const daily = parseSchedule('daily 02:00');
  assert.equal(nextDue(daily, { now, ...UTC })?.toISOString(), '2026-03-11T02:00:00.000Z');
  assert.equal(nextDue(daily, { now, lastRun: at('2026-03-08T02:00:00Z'), ...UTC })?.toISOString(), '2026-03-09T02:00:00.000Z', 'overdue');
  assert.equal(nextDue(daily, { now, lastRun: at('2026-03-10T02:00:05Z'), ...UTC })?.toISOString(), '2026-03-11T02:00:00.000Z');
  const every = parseSchedule('every 6h');
  assert.equal(nextDue(every, { now })?.toISOString(), now.toISOString());
  assert.equal(nextDue(every, { now, lastRun: at('2026-03-10T09:00:00Z') })?.toISOString(), '2026-03-10T15:00:00.000Z');
});

test('intervals', () => {
  assert.equal(parseInterval('7d'), 7 * 86_400_000);
  assert.equal(parseInterval('1w'), 7 * 86_400_000);
  assert.equal(parseInterval(' 1H30M '), 90 * 60_000);
  assert.equal(formatInterval(parseInterval('1w2d3h4m')), '1w2d3h4m');
  assert.equal(formatInterval(parseInterval('90m')), '1h30m');
  assert.throws(() => parseInterval(''), /invalid interval/);
  assert.throws(() => parseInterval('7 days'), /unknown unit "days"/);
  assert.throws(() => parseInterval('-1d'), /units/);
});

const time = { hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) };
const schedule: fc.Arbitrary<Schedule> = fc.oneof(
  fc.record({ kind: fc.constant('hourly' as const), minute: time.minute }),
  fc.record({ kind: fc.constant('daily' as const), ...time }),
  fc.record({
    kind: fc.constant('weekly' as const),
    days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1 }).map((d) => d.sort((a, b) => a - b)),
    ...time,
  }),
  fc.record({ kind: fc.constant('monthly' as const), day: fc.integer({ min: 1, max: 28 }), ...time }),
  fc.record({ kind: fc.constant('every' as const), ms: fc.integer({ min: 1, max: 366 * 24 * 60 }).map((m) => m * 60_000) }),
  fc
    .tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.constantFrom('*', '1', '1-15', '*/2'), fc.constantFrom('*', '1,6'), fc.constantFrom('*', '0', '1-5'))
    .map(([m, h, dom, mon, dow]) => ({ kind: 'cron' as const, expression: `${m} ${h} ${dom} ${mon} ${dow}` })),
);

test('property: the canonical text parses back to the same schedule, and the next run lies ahead', () => {
  fc.assert(
    fc.property(schedule, fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') }), (s, t) => {
      const text = formatSchedule(s);
      assert.deepEqual(parseSchedule(text), { ...s }, text);
      assert.equal(formatSchedule(parseSchedule(text.toUpperCase().replaceAll(' ', '   '))), text, 'case and spacing do not matter');
      const n = nextRunAfter(s, new Date(t), UTC);
      assert.ok(n && n.getTime() > t, `${text}: next run after ${new Date(t).toISOString()}`);
      if (s.kind !== 'every' && s.kind !== 'cron') {
        assert.equal(n.getUTCMinutes(), s.minute);
        assert.ok(n.getTime() - t <= (s.kind === 'monthly' ? 31 : 7) * 86_400_000, 'within one period');
      }
    }),
    { numRuns: 300 },
  );
});
