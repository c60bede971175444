import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';

/** How many files a drill checks: a fixed number, or a percentage of all files seen. */
export type SampleSpec = { readonly kind: 'count'; readonly n: number } | { readonly kind: 'percent'; readonly percent: number };

const COUNT = /^\d+$/;
const PERCENT = /^(\d+(?:\.\d*)?|\.\d+)\s*%$/;

/** "100" -> 100 files, "5%" -> 5 percent. Throws UsageError for anything else, 0, or more than 100 %. */
export function parseSampleSpec(text: string): SampleSpec {
  const s = text.trim();
  const bad = (why: string): never => {
    throw new UsageError(`invalid --sample ${JSON.stringify(text)}: ${why}`);
  };
  if (COUNT.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n)) bad('too large');
    if (n < 1) bad('the sample needs at least 1 file');
    return { kind: 'count', n };
  }
  const pct = PERCENT.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    if (!(percent > 0 && percent <= 100)) bad('a percentage must be above 0 and at most 100');
    return { kind: 'percent', percent };
  }
  return bad('expected a number of files (e.g. 100) or a percentage (e.g. 5%)');
}

/**
 * A seeded pseudo-random source in [0, 1) with 53 bits (sfc32, state from SHA-256 of the seed). Not for secrets:
 * it only makes a sample reproducible with --seed.
 */
export function seededRandom(seed: string): () => number {
  const h = createHash('sha256').update(`pybackup-drill-v1\0${seed}`).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  const next = (): number => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/**
 * Streaming sample: items are offered one at a time and only the sample is kept, never the whole stream.
 * - count n: reservoir sampling (Algorithm R), every item equally likely, exactly min(n, seen) items;
 * - percent p: each item independently with probability p/100 (at least one item when any was offered).
 * `take()` returns the sample in the order the items were offered.
 */
export class Sampler<T> {
  readonly #spec: SampleSpec;
  readonly #random: () => number;
  readonly #kept: { readonly i: number; readonly item: T }[] = [];
  /** percent mode: one reservoir slot, used when the coin kept nothing */
  #fallback: { readonly i: number; readonly item: T } | undefined;
  #seen = 0;

  constructor(spec: SampleSpec, random: () => number) {
    this.#spec = spec;
    this.#random = random;
  }

  get seen(): number {
    return this.#seen;
  }

  offer(item: T): void {
    const i = this.#seen++;
    if (this.#spec.kind === 'count') {
      if (this.#kept.length < this.#spec.n) this.#kept.push({ i, item });
      else {
        const j = Math.floor(this.#random() * (i + 1));
        if (j < this.#spec.n) this.#kept[j] = { i, item };
      }
      return;
    }
    if (this.#spec.percent >= 100 || this.#random() * 100 < this.#spec.percent) this.#kept.push({ i, item });
    else if (this.#kept.length === 0 && Math.floor(this.#random() * (i + 1)) === 0) this.#fallback = { i, item };
  }

  take(): T[] {
    const kept = this.#kept.length === 0 && this.#fallback ? [this.#fallback] : [...this.#kept];
    return kept.sort((x, y) => x.i - y.i).map((k) => k.item);
  }
}
