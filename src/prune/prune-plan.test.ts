import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PackUsage, choosePacks, maxUnusedBytes } from './prune-plan.ts';

const MiB = 1 << 20;
const pack = (id: string, used: number, unused: number, o: Partial<PackUsage> = {}): PackUsage => ({
  id, size: used + unused, usedBlobs: used > 0 ? 1 : 0, unusedBlobs: unused > 0 ? 1 : 0, usedBytes: used, unusedBytes: unused, hasTree: false, ...o,
});

test('max-unused: x % of the whole, a size, unlimited', () => {
  assert.equal(maxUnusedBytes({ kind: 'percent', value: 5 }, 95), 5);
  assert.equal(maxUnusedBytes({ kind: 'percent', value: 0 }, 1000), 0);
  assert.equal(maxUnusedBytes({ kind: 'bytes', value: 7 }, 1000), 7);
  assert.equal(maxUnusedBytes({ kind: 'unlimited' }, 1000), Number.POSITIVE_INFINITY);
});

test('planner: unused packs are marked, fully used kept, partly used repacked most-unused first until within the limit', () => {
  const packs = [
    pack('full', 16 * MiB, 0),
    pack('empty', 0, 16 * MiB),
    pack('half', 8 * MiB, 8 * MiB),
    pack('quarter', 12 * MiB, 4 * MiB),
    pack('little', 15 * MiB, 1 * MiB),
  ];
  // used 51 MiB, unused 29 MiB; 10 % allows 51·10/90 = 5.67 MiB: after the empty pack 13 MiB are left, after
  // "half" 5 MiB -> within the limit, so "quarter" and "little" stay
  const c = choosePacks(packs, { maxUnused: { kind: 'percent', value: 10 }, packSize: 16 * MiB });
  assert.deepEqual(Object.fromEntries(c.actions), { full: 'keep', empty: 'mark', half: 'repack', quarter: 'keep', little: 'keep' });
  assert.equal(c.repackBytes, 16 * MiB);
  assert.equal(c.repackUsedBytes, 8 * MiB);
  assert.equal(c.unusedAfter, 5 * MiB);
  // 0 %: every partly used pack goes
  const all = choosePacks(packs, { maxUnused: { kind: 'bytes', value: 0 }, packSize: 16 * MiB });
  assert.deepEqual([...all.actions].filter(([, a]) => a === 'repack').map(([id]) => id), ['half', 'quarter', 'little']);
  assert.equal(all.unusedAfter, 0);
});

test('planner: --max-repack-size bounds repacking, tree packs and small packs go first and regardless of the limit; unlimited repacks nothing', () => {
  const packs = [
    pack('data-a', 8 * MiB, 8 * MiB),
    pack('data-b', 4 * MiB, 12 * MiB),
    pack('trees', 1 * MiB, 1 * MiB, { hasTree: true }),
    pack('small', 1 * MiB, 100),
  ];
  const bounded = choosePacks(packs, { maxUnused: { kind: 'bytes', value: 0 }, maxRepackSize: 20 * MiB, packSize: 16 * MiB });
  // order: trees, then by unused share: data-b (3/4), data-a (1/2), small
  assert.equal(bounded.actions.get('trees'), 'repack');
  assert.equal(bounded.actions.get('data-b'), 'repack');
  assert.equal(bounded.actions.get('data-a'), 'keep', 'would exceed 20 MiB');
  assert.equal(bounded.actions.get('small'), 'repack', 'still fits');
  assert.match(bounded.reasons.get('data-a') ?? '', /max-repack-size/);
  // a generous limit: only trees and the small pack are repacked (small packs are merged)
  const generous = choosePacks(packs, { maxUnused: { kind: 'bytes', value: 100 * MiB }, packSize: 16 * MiB });
  assert.deepEqual([...generous.actions].filter(([, a]) => a === 'repack').map(([id]) => id).sort(), ['small', 'trees']);
  const unlimited = choosePacks([...packs, pack('empty', 0, MiB)], { maxUnused: { kind: 'unlimited' }, packSize: 16 * MiB });
  assert.deepEqual([...unlimited.actions].filter(([, a]) => a !== 'keep'), [['empty', 'mark']]);
});
