import type { IndexedPack } from '../repository/index-format.ts';
import type { PackBlob } from '../repository/pack-format.ts';

/** One pack as the index files describe it, plus what the backend listing says about it. */
export interface PackInfo {
  readonly id: string;
  /** the index file that listed it first */
  readonly indexFile: string;
  readonly blobs: readonly PackBlob[];
  /** stored size from the backend listing; undefined when the pack is missing */
  size?: number;
}

export interface Location {
  readonly pack: PackInfo;
  readonly blob: PackBlob;
}

/**
 * The blob index as the check sees it: built from the repository's index files (never from the local catalog, which
 * may be stale), in memory. Blobs stored in several packs keep every location, so a copy in a missing pack can give
 * way to one that exists. The blob map is built on first use, so that reading packs can start before it.
 */
export class CheckIndex {
  readonly packs = new Map<string, PackInfo>();
  /** packs a prune marked (docs/design.md §14e) -> the mark file that lists them */
  readonly marked = new Map<string, string>();
  /** blobs whose only listed copy was in a marked pack that is gone: damage only if a snapshot uses them */
  readonly gone = new Set<string>();
  #blobs: Map<string, Location> | undefined;
  readonly #alternates = new Map<string, Location[]>();

  /** Adds a pack; returns false when another index file already listed it (its entries are not added twice). */
  addPack(indexFile: string, p: IndexedPack): boolean {
    if (this.packs.has(p.id)) return false;
    this.packs.set(p.id, { id: p.id, indexFile, blobs: p.blobs });
    this.#blobs = undefined;
    return true;
  }

  #map(): Map<string, Location> {
    if (this.#blobs) return this.#blobs;
    const blobs = new Map<string, Location>();
    this.#alternates.clear();
    for (const pack of this.packs.values()) {
      for (const blob of pack.blobs) {
        const hex = blob.id.toString('hex');
        const loc = { pack, blob };
        if (!blobs.has(hex)) blobs.set(hex, loc);
        else {
          let alt = this.#alternates.get(hex);
          if (!alt) this.#alternates.set(hex, (alt = []));
          alt.push(loc);
        }
      }
    }
    this.#blobs = blobs;
    return blobs;
  }

  get blobCount(): number {
    return this.#map().size;
  }

  lookup(hex: string): Location | undefined {
    return this.#map().get(hex);
  }

  /** Blobs with more than one copy: id -> every location. */
  *duplicates(): Generator<[string, Location[]]> {
    const blobs = this.#map();
    for (const [hex, alt] of this.#alternates) {
      const first = blobs.get(hex);
      if (first) yield [hex, [first, ...alt]];
    }
  }

  /**
   * After the pack listing: a blob whose first copy is in a missing pack uses a copy that exists, and one in a pack
   * a prune marked uses a copy in an unmarked pack (the marked one may be deleted while the check runs).
   */
  preferPresent(): void {
    const blobs = this.#map();
    const rank = (l: Location): number => (l.pack.size === undefined ? 2 : this.marked.has(l.pack.id) ? 1 : 0);
    for (const [hex, alt] of this.#alternates) {
      const first = blobs.get(hex);
      if (!first || rank(first) === 0) continue;
      let best = first;
      for (const l of alt) if (rank(l) < rank(best)) best = l;
      if (best === first) continue;
      blobs.set(hex, best);
      alt[alt.indexOf(best)] = first;
    }
  }

  /** Every location of a blob (first the preferred one). */
  locations(hex: string): Location[] {
    const first = this.#map().get(hex);
    return first ? [first, ...(this.#alternates.get(hex) ?? [])] : [];
  }

  *blobs(): Generator<[string, Location]> {
    yield* this.#map();
  }
}
