import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../errors.ts';
import type { SnapshotWithId } from '../model/snapshot.ts';
import { selectDrillSnapshots, snapshotDirNames } from './drill-select.ts';
import { createExactPathFilter } from './exact-path-filter.ts';
import { parseSampleSpec, Sampler, type SampleSpec, seededRandom } from './sample.ts';

function sampleOf(spec: SampleSpec, n: number, seed: string): number[] {
  const s = new Sampler<number>(spec, seededRandom(seed));
  for (let i = 0; i < n; i++) s.offer(i);
  return s.take();
}

test('parseSampleSpec reads counts and percentages', () => {
  assert.deepEqual(parseSampleSpec('100'), { kind: 'count', n: 100 });
  assert.deepEqual(parseSampleSpec(' 1 '), { kind: 'count', n: 1 });
  assert.deepEqual(parseSampleSpec('5%'), { kind: 'percent', percent: 5 });
  assert.deepEqual(parseSampleSpec('0.5%'), { kind: 'percent', percent: 0.5 });
  assert.deepEqual(parseSampleSpec('100%'), { kind: 'percent', percent: 100 });
});

test('parseSampleSpec refuses bad values with a UsageError that quotes them', () => {
  for (const bad of ['', '0', '0%', '150%', '100.1%', '-5', '-5%', 'abc', '5x', '%', '1e3', '99999999999999999999']) {
    assert.throws(
      () => parseSampleSpec(bad),
      (e: unknown) => e instanceof UsageError && e.message.includes(JSON.stringify(bad)),
      `"${bad}" must be refused`,
    );
  }
});

test('seededRandom is deterministic, in [0, 1), and differs between seeds', () => {
  const a = seededRandom('x');
  const b = seededRandom('x');
  const c = seededRandom('y');
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('a count sample keeps exactly min(n, seen) distinct items, in offer order, reproducibly', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 300 }), fc.string(), (n, total, seed) => {
      const got = sampleOf({ kind: 'count', n }, total, seed);
      assert.equal(got.length, Math.min(n, total));
      assert.equal(new Set(got).size, got.length);
      assert.deepEqual(got, [...got].sort((x, y) => x - y));
      assert.ok(got.every((i) => i >= 0 && i < total));
      assert.deepEqual(sampleOf({ kind: 'count', n }, total, seed), got);
    }),
  );
});

test('reservoir sampling is uniform: every position is about equally likely', () => {
  const hits = Array.from({ length: 20 }, () => 0);
  for (let r = 0; r < 4000; r++) for (const i of sampleOf({ kind: 'count', n: 5 }, 20, `seed-${r}`)) hits[i]!++;
  // expected 4000 * 5/20 = 1000 per position
  for (const [i, h] of hits.entries()) assert.ok(h > 850 && h < 1150, `position ${i}: ${h} hits`);
});

test('a percent sample keeps about that share, everything at 100 %, and at least one item', () => {
  const ten = sampleOf({ kind: 'percent', percent: 10 }, 10_000, 's');
  assert.ok(ten.length > 850 && ten.length < 1150, `${ten.length}`);
  assert.deepEqual(sampleOf({ kind: 'percent', percent: 100 }, 37, 's'), Array.from({ length: 37 }, (_, i) => i));
  for (let r = 0; r < 50; r++) assert.equal(sampleOf({ kind: 'percent', percent: 0.01 }, 20, `r${r}`).length >= 1, true);
  assert.deepEqual(sampleOf({ kind: 'percent', percent: 5 }, 0, 's'), []);
});

test('the exact path filter selects listed paths and prunes everything else', () => {
  const f = createExactPathFilter(['/home/ann/a[1]*.txt', '/home/ann/sub/b', '/etc/x']);
  assert.equal(f.hasIncludes, true);
  assert.equal(f.included('/home/ann/a[1]*.txt'), true);
  assert.equal(f.included('/home/ann/a1x.txt'), false, 'no glob syntax');
  assert.equal(f.included('/home/ann/sub'), false);
  for (const dir of ['/home', '/home/ann', '/home/ann/sub', '/etc']) assert.equal(f.excluded(dir), false, dir);
  for (const other of ['/home/bob', '/home/ann/other', '/var', '/home/ann/sub/c', '/home/an']) assert.equal(f.excluded(other), true, other);
  const big = createExactPathFilter(Array.from({ length: 10_000 }, (_, i) => `/d${i % 100}/f${i}`));
  assert.equal(big.included('/d7/f9907'), true);
  assert.equal(big.excluded('/d7'), false);
  assert.equal(big.excluded('/d100'), true);
});

function snap(id: string, hostname: string, paths: string[], time: string): SnapshotWithId {
  return { id, hostname, paths, time, tree: 'ff', username: 'u', uid: 0, gid: 0, programVersion: 't' };
}

test('drill snapshots: latest per host + path set by default, the newest k with a count', () => {
  const all = [
    snap('a1', 'h1', ['/x'], '2025-01-01'),
    snap('a2', 'h2', ['/x'], '2025-01-02'),
    snap('a3', 'h1', ['/x'], '2025-01-03'),
    snap('a4', 'h1', ['/y', '/x'], '2025-01-04'),
    snap('a5', 'h1', ['/x', '/y'], '2025-01-05'),
  ];
  assert.deepEqual(selectDrillSnapshots(all).map((s) => s.id), ['a5', 'a3', 'a2']);
  assert.deepEqual(selectDrillSnapshots(all, 2).map((s) => s.id), ['a5', 'a4']);
  assert.deepEqual(selectDrillSnapshots(all, 99).map((s) => s.id), ['a5', 'a4', 'a3', 'a2', 'a1']);
  assert.deepEqual(selectDrillSnapshots([]), []);
  assert.deepEqual(snapshotDirNames([snap('12345678aa', 'h', [], ''), snap('12345678bb', 'h', [], ''), snap('abcdef0123', 'h', [], '')]), ['12345678aa', '12345678bb', 'abcdef01']);
});
