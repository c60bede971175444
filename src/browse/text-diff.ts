/**
 * Line diff (Myers' O(ND) algorithm with the linear-space middle-snake bisection, as in diff-match-patch) and
 * unified-diff hunks. Lines keep their "\n", so a last line without one differs from the same text with one (as in
 * GNU diff, which then prints "\ No newline at end of file").
 */

export interface Hunk {
  /** 1-based first line of the old range (the line before it when oldLines is 0) */
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  /** " x", "-x", "+x", each with its line terminator if it had one */
  readonly lines: readonly string[];
}

/** Splits text into lines, each keeping its "\n"; the last one lacks it when the text does not end with one. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/**
 * Marks which lines of `a` and `b` belong to a longest common subsequence. `budget` bounds the work (edit-graph
 * steps); past it the remaining ranges are treated as wholly replaced — still a correct diff, just not a minimal one.
 */
export function diffLines(a: readonly string[], b: readonly string[], budget = 50_000_000): { keepA: Uint8Array; keepB: Uint8Array } {
  const codes = new Map<string, number>();
  const code = (s: string): number => {
    let c = codes.get(s);
    if (c === undefined) {
      c = codes.size;
      codes.set(s, c);
    }
    return c;
  };
  const A = Int32Array.from(a, code);
  const B = Int32Array.from(b, code);
  const keepA = new Uint8Array(A.length);
  const keepB = new Uint8Array(B.length);
  const work = { left: budget };
  // an explicit stack instead of recursion: bisection depth is small, but hostile input should not matter
  const stack: [number, number, number, number][] = [[0, A.length, 0, B.length]];
  while (stack.length > 0) {
    let [a0, a1, b0, b1] = stack.pop() as [number, number, number, number];
    while (a0 < a1 && b0 < b1 && A[a0] === B[b0]) {
      keepA[a0++] = 1;
      keepB[b0++] = 1;
    }
    while (a0 < a1 && b0 < b1 && A[a1 - 1] === B[b1 - 1]) {
      keepA[--a1] = 1;
      keepB[--b1] = 1;
    }
    if (a0 === a1 || b0 === b1) continue;
    const split = bisect(A, B, a0, a1, b0, b1, work);
    if (split) {
      stack.push([split[0], a1, split[1], b1], [a0, split[0], b0, split[1]]);
    }
  }
  return { keepA, keepB };
}

/** The middle snake's start (x, y) splitting the problem in two, or undefined (nothing in common / out of budget). */
function bisect(A: Int32Array, B: Int32Array, a0: number, a1: number, b0: number, b1: number, work: { left: number }): [number, number] | undefined {
  const n = a1 - a0;
  const m = b1 - b0;
  const maxD = Math.ceil((n + m) / 2);
  const off = maxD;
  const len = 2 * maxD + 2;
  const v1 = new Int32Array(len).fill(-1);
  const v2 = new Int32Array(len).fill(-1);
  v1[off + 1] = 0;
  v2[off + 1] = 0;
  const delta = n - m;
  const front = (delta & 1) !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    if ((work.left -= 2 * d + 2) < 0) return undefined;
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1o = off + k1;
      let x1 = k1 === -d || (k1 !== d && (v1[k1o - 1] as number) < (v1[k1o + 1] as number)) ? (v1[k1o + 1] as number) : (v1[k1o - 1] as number) + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && A[a0 + x1] === B[b0 + y1]) {
        x1++;
        y1++;
      }
      v1[k1o] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const k2o = off + delta - k1;
        if (k2o >= 0 && k2o < len && v2[k2o] !== -1) {
          const x2 = n - (v2[k2o] as number);
          if (x1 >= x2) return [a0 + x1, b0 + y1];
        }
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2o = off + k2;
      let x2 = k2 === -d || (k2 !== d && (v2[k2o - 1] as number) < (v2[k2o + 1] as number)) ? (v2[k2o + 1] as number) : (v2[k2o - 1] as number) + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && A[a1 - x2 - 1] === B[b1 - y2 - 1]) {
        x2++;
        y2++;
      }
      v2[k2o] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const k1o = off + delta - k2;
        if (k1o >= 0 && k1o < len && v1[k1o] !== -1) {
          const x1 = v1[k1o] as number;
          const y1 = off + x1 - k1o;
          if (x1 >= n - x2) return [a0 + x1, b0 + y1];
        }
      }
    }
  }
  return undefined;
}

/** Unified-diff hunks with `context` lines around each change (GNU diff's numbering). */
export function unifiedHunks(a: readonly string[], b: readonly string[], context = 3, budget?: number): Hunk[] {
  const { keepA, keepB } = diffLines(a, b, budget);
  // the edit script as a list of ops: 0 equal, 1 delete (a[i]), 2 insert (b[j])
  const ops: { op: 0 | 1 | 2; i: number; j: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && !keepA[i]) ops.push({ op: 1, i: i++, j });
    else if (j < b.length && !keepB[j]) ops.push({ op: 2, i, j: j++ });
    else ops.push({ op: 0, i: i++, j: j++ });
  }
  const hunks: Hunk[] = [];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]?.op === 0) k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - context);
    // extend while the gap of equal lines to the next change is at most 2 × context
    let end = k;
    for (;;) {
      while (end < ops.length && ops[end]?.op !== 0) end++;
      let eq = end;
      while (eq < ops.length && ops[eq]?.op === 0) eq++;
      if (eq < ops.length && eq - end <= 2 * context) end = eq;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const slice = ops.slice(start, end);
    const first = slice[0] as { i: number; j: number };
    const oldLines = slice.filter((o) => o.op !== 2).length;
    const newLines = slice.filter((o) => o.op !== 1).length;
    hunks.push({
      oldStart: oldLines === 0 ? first.i : first.i + 1,
      oldLines,
      newStart: newLines === 0 ? first.j : first.j + 1,
      newLines,
      lines: slice.map((o) => (o.op === 0 ? ` ${a[o.i]}` : o.op === 1 ? `-${a[o.i]}` : `+${b[o.j]}`)),
    });
    k = end;
  }
  return hunks;
}

/** GNU-style text of one hunk ("\ No newline at end of file" after a line that lacks it). */
export function formatHunk(h: Hunk): string {
  const range = (start: number, n: number): string => (n === 1 ? `${start}` : `${start},${n}`);
  let out = `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@\n`;
  for (const l of h.lines) out += l.endsWith('\n') ? l : `${l}\n\\ No newline at end of file\n`;
  return out;
}
