/** "Did you mean ...?" for unknown configuration keys. */

function normalize(s: string): string {
  return s.toLowerCase().replaceAll('_', '-').replaceAll(' ', '-');
}

/** Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions, transpositions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known key closest to `key`, when it is close enough to be a likely typo: the same name with `_` for `-` or
 * another case, a plural/singular slip, or at most about one edit per four characters.
 */
export function closest(key: string, known: readonly string[]): string | undefined {
  const k = normalize(key);
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of known) {
    const n = normalize(c);
    if (n === k || n === `${k}s` || `${n}s` === k) return c;
    const d = editDistance(k, n);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(k.length, 4) / 4));
  return bestD <= limit ? best : undefined;
}
