import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.ts';
import { describePolicy, isEmptyPolicy } from './policy.ts';

test('describePolicy words a policy as restic does ("Applying Policy: ...")', () => {
  assert.equal(describePolicy({ daily: 7, weekly: 4, monthly: -1 }), 'keep 7 daily, 4 weekly, all monthly snapshots');
  assert.equal(describePolicy({ last: 3 }), 'keep 3 latest snapshots');
  assert.equal(
    describePolicy({ yearly: 2, withinDaily: parseDuration('7d'), tags: [['a', 'b'], ['c']], within: parseDuration('1y2m') }),
    'keep 2 yearly snapshots, daily snapshots within 7d and all snapshots with tags [[a, b] [c]] and all snapshots within 1y2m of the newest',
  );
  assert.equal(describePolicy({}), 'remove');
});

test('isEmptyPolicy: no rule set, zero counts and zero durations included', () => {
  assert.ok(isEmptyPolicy({}));
  assert.ok(isEmptyPolicy({ last: 0, within: parseDuration('0d'), tags: [] }));
  assert.ok(!isEmptyPolicy({ tags: [['']] }));
  assert.ok(!isEmptyPolicy({ hourly: -1 }));
  assert.ok(!isEmptyPolicy({ withinYearly: parseDuration('1h') }));
});
