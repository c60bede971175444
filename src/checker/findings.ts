import { AFFECTED_LIMIT, type Affected, type CheckEvent, type Finding } from './events.ts';

/** Where each bad blob shows up in the snapshots: the first places, and how many more there are. */
export type AffectedMap = ReadonlyMap<string, { readonly places: readonly Affected[]; readonly more: number }>;

/**
 * Collects findings and counts them by severity. Findings about lost or damaged blobs are held until the snapshots
 * were walked, so that each can name the snapshot paths affected; every other finding is reported at once.
 */
export class FindingLog {
  readonly #emit: (e: CheckEvent) => void;
  readonly #held: { finding: Finding; blobs: readonly string[] }[] = [];
  /** blob ids (hex) whose data is missing or damaged */
  readonly bad = new Set<string>();
  errors = 0;
  warnings = 0;
  infos = 0;

  constructor(emit: (e: CheckEvent) => void) {
    this.#emit = emit;
  }

  report(f: Finding): void {
    this.#count(f);
    this.#emit({ type: 'finding', finding: f });
  }

  /** A finding about damaged or missing `blobs`: reported by `release`, with the places it affects. */
  hold(f: Finding, blobs: Iterable<string>): void {
    this.#count(f);
    const list = [...blobs];
    for (const b of list) this.bad.add(b);
    this.#held.push({ finding: f, blobs: list });
  }

  /** Replaces held findings (e.g. to add a hint found later). */
  rewriteHeld(fn: (f: Finding, blobs: readonly string[]) => Finding): void {
    for (const h of this.#held) h.finding = fn(h.finding, h.blobs);
  }

  /** Reports every held finding with the places its blobs affect (deduplicated, at most AFFECTED_LIMIT listed). */
  release(affected: AffectedMap): void {
    for (const { finding, blobs } of this.#held.splice(0)) {
      const seen = new Set<string>();
      const places: Affected[] = [];
      let more = 0;
      for (const b of blobs) {
        const a = affected.get(b);
        if (!a) continue;
        more += a.more;
        for (const p of a.places) {
          const key = `${p.snapshot}\0${p.path}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (places.length < AFFECTED_LIMIT) places.push(p);
          else more++;
        }
      }
      this.#emit({ type: 'finding', finding: places.length > 0 ? { ...finding, affected: places, ...(more > 0 ? { affectedMore: more } : {}) } : finding });
    }
  }

  get heldCount(): number {
    return this.#held.length;
  }

  #count(f: Finding): void {
    if (f.severity === 'error') this.errors++;
    else if (f.severity === 'warning') this.warnings++;
    else this.infos++;
  }
}
