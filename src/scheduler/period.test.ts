import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatPeriod, parsePeriod } from './period.ts';

test('periods parse in ms, s, m, h, d and combinations', () => {
  assert.equal(parsePeriod('30s'), 30_000);
  assert.equal(parsePeriod('1m30s'), 90_000);
  assert.equal(parsePeriod(' 2 m '), 120_000);
  assert.equal(parsePeriod('500ms'), 500);
  assert.equal(parsePeriod('1.5s'), 1500);
  assert.equal(parsePeriod('1h'), 3_600_000);
  assert.equal(parsePeriod('1d'), 86_400_000);
});

test('bad periods name the problem', () => {
  assert.throws(() => parsePeriod(''), /expected a number and a unit/);
  assert.throws(() => parsePeriod('30'), /no unit after 30/);
  assert.throws(() => parsePeriod('3 weeks'), /unknown unit "weeks"/);
  assert.throws(() => parsePeriod('-3s'), /expected numbers with units/);
  assert.throws(() => parsePeriod('0s', { what: 'quiet period', min: 1000 }), /invalid quiet period "0s": must be at least 1s/);
  assert.throws(() => parsePeriod('2d', { max: 86_400_000 }), /at most 1d/);
});

test('formatPeriod round-trips through parsePeriod', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 0, max: 10_000_000 }).map((s) => s * 1000)), (ms) => {
      assert.equal(parsePeriod(formatPeriod(ms)), ms);
    }),
  );
  assert.equal(formatPeriod(90_000), '1m30s');
  assert.equal(formatPeriod(0), '0s');
});
