import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ReadBatch } from './catalog-read-batch.ts';

/**
 * A read-only view for worker threads: existence checks only. Like Catalog.hasBlob it ignores doomed rows (blobs
 * in packs a prune marked, docs/design.md §12), so a backup never deduplicates against data a prune will delete.
 */
export class CatalogReader {
  readonly #db: DatabaseSync;
  readonly #has: StatementSync;
  readonly #reads: ReadBatch;

  constructor(path: string) {
    this.#db = new DatabaseSync(path, { readOnly: true, timeout: 10_000 });
    this.#has = this.#db.prepare('SELECT 1 AS x FROM blobs WHERE id = ? AND doomed = 0');
    this.#reads = new ReadBatch(this.#db);
  }

  hasBlob(id: Uint8Array): boolean {
    this.#reads.enter();
    return this.#has.get(id) !== undefined;
  }

  /** Ends the current read batch: the next lookup sees everything committed so far. */
  refresh(): void {
    this.#reads.end();
  }

  close(): void {
    this.#reads.end();
    this.#db.close();
  }
}
