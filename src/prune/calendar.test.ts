import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../errors.ts';
import { addDate, assertTimeZone, formatWallClock, fromWallClock, isoWeek, wallClock } from './calendar.ts';

const Z = (s: string): number => Date.parse(s);

test('isoWeek matches ISO 8601 (and Go) across year boundaries', () => {
  const cases: [number, number, number, number, number][] = [
    [2020, 12, 28, 2020, 53],
    [2020, 12, 31, 2020, 53],
    [2021, 1, 3, 2020, 53], // a Sunday: still the last week of 2020
    [2021, 1, 4, 2021, 1],
    [2024, 12, 29, 2024, 52],
    [2024, 12, 30, 2025, 1], // a Monday in December that belongs to 2025
    [2026, 1, 1, 2026, 1],
    [2027, 1, 1, 2026, 53],
    [2016, 1, 18, 2016, 3],
  ];
  for (const [y, m, d, wy, ww] of cases) assert.deepEqual(isoWeek(y, m, d), { year: wy, week: ww }, `${y}-${m}-${d}`);
});

test('wallClock reads the local wall clock of an instant, including DST', () => {
  assert.equal(formatWallClock(Z('2024-03-31T00:59:59Z'), 'Europe/Berlin'), '2024-03-31 01:59:59');
  assert.equal(formatWallClock(Z('2024-03-31T01:00:00Z'), 'Europe/Berlin'), '2024-03-31 03:00:00');
  assert.equal(formatWallClock(Z('2024-10-27T00:30:00Z'), 'Europe/Berlin'), '2024-10-27 02:30:00');
  assert.equal(formatWallClock(Z('2024-10-27T01:30:00Z'), 'Europe/Berlin'), '2024-10-27 02:30:00');
  assert.equal(formatWallClock(Z('2024-03-10T03:30:00Z'), 'America/New_York'), '2024-03-09 22:30:00');
  assert.equal(formatWallClock(Z('2024-03-10T03:30:00Z'), 'UTC'), '2024-03-10 03:30:00');
  assert.equal(wallClock(Z('2024-01-01T00:00:00.123Z'), 'Asia/Kolkata').millisecond, 123);
  assert.equal(wallClock(Z('2024-01-01T00:00:00Z'), 'Asia/Kolkata').minute, 30);
});

test('fromWallClock resolves skipped and repeated local times as Go time.Date does', () => {
  const berlin = (y: number, mo: number, d: number, h: number, mi: number): number =>
    fromWallClock({ year: y, month: mo, day: d, hour: h, minute: mi, second: 0, millisecond: 0 }, 'Europe/Berlin');
  assert.equal(berlin(2024, 1, 15, 12, 0), Z('2024-01-15T11:00:00Z'));
  assert.equal(berlin(2024, 7, 15, 12, 0), Z('2024-07-15T10:00:00Z'));
  // 02:30 does not exist on 2024-03-31: Go lands on 03:30 CEST
  assert.equal(berlin(2024, 3, 31, 2, 30), Z('2024-03-31T01:30:00Z'));
  // 02:30 happens twice on 2024-10-27: Go picks the second (CET)
  assert.equal(berlin(2024, 10, 27, 2, 30), Z('2024-10-27T01:30:00Z'));
  // out-of-range fields normalize: Feb 31 = Mar 2 (2024 is a leap year)
  assert.equal(fromWallClock({ year: 2024, month: 2, day: 31, hour: 0, minute: 0, second: 0, millisecond: 0 }, 'UTC'), Z('2024-03-02T00:00:00Z'));
});

test('addDate is Go AddDate: calendar arithmetic on the local wall clock', () => {
  // one month before March 31 is "February 31" = March 2 (leap year) / March 3
  assert.equal(addDate(Z('2024-03-31T12:00:00Z'), 'UTC', 0, -1, 0), Z('2024-03-02T12:00:00Z'));
  assert.equal(addDate(Z('2023-03-31T12:00:00Z'), 'UTC', 0, -1, 0), Z('2023-03-03T12:00:00Z'));
  assert.equal(addDate(Z('2024-02-29T12:00:00Z'), 'UTC', -1, 0, 0), Z('2023-03-01T12:00:00Z'));
  // across the spring-forward night a local day is 23 hours long
  assert.equal(addDate(Z('2024-03-31T10:00:00Z'), 'Europe/Berlin', 0, 0, -1), Z('2024-03-30T11:00:00Z'));
  assert.equal(addDate(Z('2024-03-31T10:00:00Z'), 'UTC', 0, 0, -1), Z('2024-03-30T10:00:00Z'));
  // and 25 hours across the fall-back night
  assert.equal(addDate(Z('2024-10-27T11:00:00Z'), 'Europe/Berlin', 0, 0, -1), Z('2024-10-26T10:00:00Z'));
  // far beyond the JavaScript date range: only "before everything" matters
  assert.equal(addDate(Z('2016-01-18T12:02:03Z'), 'Europe/Berlin', -9999, 0, 0) < Z('0001-01-01T00:00:00Z'), true);
  assert.equal(addDate(Z('2016-01-18T12:02:03Z'), 'Europe/Berlin', -300_000, 0, 0), -Infinity);
});

test('an unknown time zone is a usage error', () => {
  assert.throws(() => assertTimeZone('Mars/Olympus_Mons'), UsageError);
  assertTimeZone('UTC');
  assertTimeZone('Australia/Lord_Howe');
});
