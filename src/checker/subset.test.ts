import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseSize } from '../archiver/size.ts';
import { UsageError } from '../errors.ts';
import { inPart, parseSubset, selectPacks } from './subset.ts';

const parse = (s: string): ReturnType<typeof parseSubset> => parseSubset(s, parseSize);
const hexId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

test('parseSubset reads n/t, percentages and sizes', () => {
  assert.deepEqual(parse('1/5'), { kind: 'part', n: 1, t: 5 });
  assert.deepEqual(parse(' 5 / 5 '), { kind: 'part', n: 5, t: 5 });
  assert.deepEqual(parse('1/1'), { kind: 'part', n: 1, t: 1 });
  assert.deepEqual(parse('10%'), { kind: 'percent', percent: 10 });
  assert.deepEqual(parse('2.5%'), { kind: 'percent', percent: 2.5 });
  assert.deepEqual(parse('100%'), { kind: 'percent', percent: 100 });
  assert.deepEqual(parse('500M'), { kind: 'size', bytes: 500 * 2 ** 20 });
  assert.deepEqual(parse('2G'), { kind: 'size', bytes: 2 * 2 ** 30 });
  assert.deepEqual(parse('4096'), { kind: 'size', bytes: 4096 });
});

test('parseSubset refuses malformed values with a UsageError that quotes them', () => {
  for (const bad of ['', '0/5', '6/5', '1/0', '-1/5', '1/5/7', 'a/b', '1/', '/2', '0%', '101%', '-5%', '%', 'x%', '0', '0M', 'lots', '5Q', '1.5', '1/99999999999']) {
    assert.throws(
      () => parse(bad),
      (e: unknown) => e instanceof UsageError && e.message.includes(JSON.stringify(bad)),
      `"${bad}" must be refused`,
    );
  }
});

test('the parts 1/t .. t/t cover every pack exactly once', () => {
  fc.assert(
    fc.property(fc.uniqueArray(hexId, { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (ids, t) => {
      const packs = ids.map((id) => ({ id, size: 1 }));
      const seen = new Map<string, number>();
      for (let n = 1; n <= t; n++) {
        for (const p of selectPacks(packs, { kind: 'part', n, t })) seen.set(p.id, (seen.get(p.id) ?? 0) + 1);
      }
      assert.equal(seen.size, ids.length, 'every pack is in some part');
      for (const [id, count] of seen) assert.equal(count, 1, `pack ${id} is in exactly one part`);
    }),
  );
});

test('a pack belongs to its part by the first 4 bytes of its id', () => {
  assert.equal(inPart(`00000000${'0'.repeat(56)}`, 1, 3), true);
  assert.equal(inPart(`00000004${'f'.repeat(56)}`, 2, 3), true); // 4 mod 3 = 1 -> part 2
  assert.equal(inPart(`ffffffff${'0'.repeat(56)}`, 2, 2), true); // 4294967295 mod 2 = 1 -> part 2
  assert.equal(inPart(`ffffffff${'0'.repeat(56)}`, 1, 2), false);
  assert.equal(inPart(`0000000a${'0'.repeat(56)}`, 1, 1), true);
});

test('percent and size subsets are random, bounded, and never empty when there are packs', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(hexId, { minLength: 1, maxLength: 50 }),
      fc.double({ min: 0.01, max: 100, noNaN: true }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer(),
      (ids, percent, budget, seed) => {
        let s = seed | 0 || 1;
        const random = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
        const packs = ids.map((id, i) => ({ id, size: 100 + ((i * 37) % 400) }));
        const byPct = selectPacks(packs, { kind: 'percent', percent }, random);
        assert.equal(byPct.length, Math.max(1, Math.floor((packs.length * percent) / 100)));
        assert.equal(new Set(byPct.map((p) => p.id)).size, byPct.length, 'no pack twice');
        const bySize = selectPacks(packs, { kind: 'size', bytes: budget }, random);
        assert.ok(bySize.length >= 1);
        const total = bySize.reduce((a, p) => a + p.size, 0);
        assert.ok(bySize.length === 1 || total <= budget, `${total} bytes selected for a budget of ${budget}`);
        // the selection keeps the listing order
        const order = packs.map((p) => p.id);
        const idx = bySize.map((p) => order.indexOf(p.id));
        assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
      },
    ),
  );
  assert.deepEqual(selectPacks([], { kind: 'percent', percent: 50 }), []);
  assert.equal(selectPacks([{ id: 'a'.repeat(64), size: 10 }], { kind: 'all' }).length, 1);
});
