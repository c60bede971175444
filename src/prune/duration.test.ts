import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../errors.ts';
import { formatDuration, isZeroDuration, parseDuration } from './duration.ts';

test('parseDuration reads restic durations', () => {
  const cases: [string, [number, number, number, number]][] = [
    ['1y2m3d4h', [1, 2, 3, 4]],
    ['4h3d2m1y', [1, 2, 3, 4]],
    ['1d', [0, 0, 1, 0]],
    ['36h', [0, 0, 0, 36]],
    ['2m', [0, 2, 0, 0]],
    ['10y', [10, 0, 0, 0]],
    ['  7d  ', [0, 0, 7, 0]],
    ['1d2d', [0, 0, 2, 0]], // a later number for the same unit wins, as in restic
    ['0d', [0, 0, 0, 0]],
    ['', [0, 0, 0, 0]],
    ['-1d', [0, 0, -1, 0]], // parses; validatePolicy refuses it
  ];
  for (const [s, [years, months, days, hours]] of cases) assert.deepEqual(parseDuration(s), { years, months, days, hours }, s);
});

test('parseDuration refuses malformed durations with a clear message', () => {
  const bad: [string, RegExp][] = [
    ['5x', /invalid unit "x" after number 5/],
    ['5', /no unit found after number 5/],
    ['d', /no number found/],
    ['1d 2h', /no number found/],
    ['1.5d', /invalid unit "\."/],
    ['1D', /invalid unit "D"/],
    ['abc', /no number found/],
    ['99999999999999999999d', /too large/],
  ];
  for (const [s, re] of bad) {
    assert.throws(
      () => parseDuration(s),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      s,
    );
  }
});

test('formatDuration prints the non-zero parts in restic order', () => {
  assert.equal(formatDuration(parseDuration('4h3d2m1y')), '1y2m3d4h');
  assert.equal(formatDuration(parseDuration('1m14d')), '1m14d');
  assert.equal(formatDuration(parseDuration('0y5h')), '5h');
  assert.equal(formatDuration(parseDuration('')), '');
  assert.ok(isZeroDuration(parseDuration('0y0m0d0h')));
  assert.ok(!isZeroDuration(parseDuration('1h')));
});
