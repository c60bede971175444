import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** A short key for a blob id in memory: its first 12 bytes (a collision only purges one more files-cache entry). */
export function blobKey(id: Uint8Array, at = 0): string {
  return Buffer.from(id.buffer, id.byteOffset + at, 12).toString('latin1');
}

const PURGE_BATCH = 2048;

/**
 * The catalog's side of prune marks (docs/design.md §12, §14e): which packs are marked, dooming their rows, and
 * dropping files-cache entries that name doomed blobs.
 */
export class CatalogMarks {
  readonly #db: DatabaseSync;
  readonly #isMarked: StatementSync;
  readonly #insMarked: StatementSync;
  readonly #doom: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#isMarked = db.prepare('SELECT 1 AS x FROM marked_packs WHERE id = ?');
    this.#insMarked = db.prepare('INSERT OR IGNORE INTO marked_packs(id) VALUES(?)');
    this.#doom = db.prepare('UPDATE blobs SET doomed = 1 WHERE doomed = 0 AND pid IN (SELECT p.pid FROM marked_packs m JOIN packs p ON p.id = m.id) RETURNING id');
  }

  isMarked(pack: Uint8Array): boolean {
    return this.#isMarked.get(pack) !== undefined;
  }

  /** In the caller's transaction: records `packs` as marked and dooms their rows; returns the newly doomed blobs' keys. */
  doom(packs: readonly string[]): Set<string> {
    for (const p of packs) this.#insMarked.run(Buffer.from(p, 'hex'));
    const keys = new Set<string>();
    for (const r of this.#doom.iterate() as Iterable<{ id: Uint8Array }>) keys.add(blobKey(r.id));
    return keys;
  }

  /**
   * Removes the files-cache entries whose content names one of the `doomed` blobs (one scan of the table), so that a
   * backup reads those files again instead of trying a hit that would fail its blob checks anyway. Returns how many.
   */
  purgeFiles(doomed: ReadonlySet<string>, transaction: (fn: () => void) => void): number {
    if (doomed.size === 0) return 0;
    const stale: Uint8Array[] = [];
    for (const r of this.#db.prepare('SELECT path, content FROM files').iterate() as Iterable<{ path: Uint8Array; content: Uint8Array }>) {
      for (let p = 0; p + 32 <= r.content.length; p += 32) {
        if (doomed.has(blobKey(r.content, p))) {
          stale.push(r.path);
          break;
        }
      }
    }
    const del = this.#db.prepare('DELETE FROM files WHERE path = ?');
    for (let i = 0; i < stale.length; i += PURGE_BATCH) {
      transaction(() => {
        for (const path of stale.slice(i, i + PURGE_BATCH)) del.run(path);
      });
    }
    return stale.length;
  }
}
