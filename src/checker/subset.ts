import { UsageError } from '../errors.ts';

/**
 * `--read-data-subset`: which packs `check` reads.
 * - `n/t`: deterministic; a pack belongs to part n of t when the first 4 bytes of its id, as a big-endian integer,
 *   are n-1 modulo t. Running 1/t ... t/t reads every pack exactly once.
 * - `x%`: a random x percent of the packs (at least one when there are packs).
 * - `SIZE` (500M, 2G): random packs adding up to at most that many bytes (at least one pack).
 */
export type ReadDataSubset =
  | { readonly kind: 'all' }
  | { readonly kind: 'part'; readonly n: number; readonly t: number }
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'size'; readonly bytes: number };

const PART = /^(\d+)\s*\/\s*(\d+)$/;
const PERCENT = /^(\d+(?:\.\d*)?|\.\d+)\s*%$/;
const MAX_PARTS = 2 ** 32;

/** Parses the flag's value; `parseSize` reads sizes such as "500M" (the CLI's size syntax). Throws UsageError. */
export function parseSubset(text: string, parseSize: (s: string) => number): ReadDataSubset {
  const s = text.trim();
  const bad = (why: string): never => {
    throw new UsageError(`invalid --read-data-subset ${JSON.stringify(text)}: ${why}`);
  };
  const part = PART.exec(s);
  if (part) {
    const n = Number(part[1]);
    const t = Number(part[2]);
    if (t < 1 || t > MAX_PARTS) bad(`the number of parts must be from 1 to ${MAX_PARTS}`);
    if (n < 1 || n > t) bad(`the part must be from 1 to ${t}`);
    return { kind: 'part', n, t };
  }
  const pct = PERCENT.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    if (!(percent > 0 && percent <= 100)) bad('a percentage must be above 0 and at most 100');
    return { kind: 'percent', percent };
  }
  if (s.includes('/') || s.includes('%')) bad('expected n/t (e.g. 1/5), a percentage (e.g. 10%) or a size (e.g. 500M)');
  let bytes = 0;
  try {
    bytes = parseSize(s);
  } catch {
    bad('expected n/t (e.g. 1/5), a percentage (e.g. 10%) or a size (e.g. 500M)');
  }
  if (bytes <= 0) bad('the size must be above 0');
  return { kind: 'size', bytes };
}

/** Part n of t, by the pack id's first 4 bytes. */
export function inPart(packId: string, n: number, t: number): boolean {
  const v = Number.parseInt(packId.slice(0, 8), 16);
  return Number.isFinite(v) && v % t === n - 1;
}

/** Selects the packs to read; the result keeps the input order (which keeps reads local). */
export function selectPacks<P extends { readonly id: string; readonly size: number }>(
  packs: readonly P[],
  subset: ReadDataSubset,
  random: () => number = Math.random,
): P[] {
  switch (subset.kind) {
    case 'all':
      return [...packs];
    case 'part':
      return packs.filter((p) => inPart(p.id, subset.n, subset.t));
    case 'percent': {
      const count = packs.length === 0 ? 0 : Math.max(1, Math.floor((packs.length * subset.percent) / 100));
      return pick(packs, shuffled(packs.length, random).slice(0, count));
    }
    case 'size': {
      const chosen: number[] = [];
      let total = 0;
      for (const i of shuffled(packs.length, random)) {
        const size = (packs[i] as P).size;
        if (total + size > subset.bytes && chosen.length > 0) continue;
        chosen.push(i);
        total += size;
      }
      return pick(packs, chosen);
    }
  }
}

function shuffled(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const x = a[i] as number;
    a[i] = a[j] as number;
    a[j] = x;
  }
  return a;
}

function pick<P>(packs: readonly P[], indexes: readonly number[]): P[] {
  return [...indexes].sort((a, b) => a - b).map((i) => packs[i] as P);
}
