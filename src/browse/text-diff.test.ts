import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Hunk, diffLines, formatHunk, splitLines, unifiedHunks } from './text-diff.ts';

/** Applies hunks to the old lines (checking every context and removed line), returning the new lines. */
function applyHunks(old: readonly string[], hunks: readonly Hunk[]): string[] {
  const out: string[] = [];
  let at = 0; // next old line (0-based) not yet copied
  for (const h of hunks) {
    const start = h.oldLines === 0 ? h.oldStart : h.oldStart - 1;
    assert.ok(start >= at, 'hunks are ordered and do not overlap');
    while (at < start) out.push(old[at++] as string);
    let seenOld = 0;
    let seenNew = 0;
    for (const l of h.lines) {
      const body = l.slice(1);
      if (l[0] === ' ' || l[0] === '-') {
        assert.equal(old[at], body, 'context/removed line matches the old text');
        at++;
        seenOld++;
      }
      if (l[0] === ' ' || l[0] === '+') {
        out.push(body);
        seenNew++;
      }
    }
    assert.equal(seenOld, h.oldLines);
    assert.equal(seenNew, h.newLines);
  }
  while (at < old.length) out.push(old[at++] as string);
  return out;
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => Array.from({ length: b.length + 1 }, () => 0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  }
  return dp[a.length]![b.length]!;
}

// small alphabets make many equal lines, which is where diff algorithms go wrong
const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', 'e f'), { maxLength: 40 }).chain((lines) =>
  fc.boolean().map((nl) => lines.join('\n') + (nl && lines.length > 0 ? '\n' : '')),
);

test('property: applying the hunks to the old text gives the new text', () => {
  fc.assert(
    fc.property(text, text, fc.integer({ min: 0, max: 4 }), (x, y, context) => {
      const a = splitLines(x);
      const b = splitLines(y);
      const hunks = unifiedHunks(a, b, context);
      assert.equal(applyHunks(a, hunks).join(''), y);
      if (x === y) assert.equal(hunks.length, 0);
    }),
    { numRuns: 2000 },
  );
});

test('property: the kept lines are a longest common subsequence (minimal diff)', () => {
  fc.assert(
    fc.property(text, text, (x, y) => {
      const a = splitLines(x);
      const b = splitLines(y);
      const { keepA, keepB } = diffLines(a, b);
      const kept = keepA.reduce((s, v) => s + v, 0);
      assert.equal(kept, keepB.reduce((s, v) => s + v, 0));
      assert.equal(kept, lcsLength(a, b));
    }),
    { numRuns: 1000 },
  );
});

test('a work budget still yields a correct (not minimal) diff', () => {
  const a = Array.from({ length: 400 }, (_, i) => `${i % 7}\n`);
  const b = Array.from({ length: 400 }, (_, i) => `${i % 5}\n`);
  const hunks = unifiedHunks(a, b, 3, 1000);
  assert.equal(applyHunks(a, hunks).join(''), b.join(''));
});

test('unified output matches GNU diff on a small example', () => {
  const a = splitLines('one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n');
  const b = splitLines('one\ntwo\n3\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven');
  const out = unifiedHunks(a, b).map(formatHunk).join('');
  assert.equal(out, '@@ -1,6 +1,6 @@\n one\n two\n-three\n+3\n four\n five\n six\n@@ -8,3 +8,4 @@\n eight\n nine\n ten\n+eleven\n\\ No newline at end of file\n');
  assert.equal(unifiedHunks([], splitLines('x\n')).map(formatHunk).join(''), '@@ -0,0 +1 @@\n+x\n');
});
