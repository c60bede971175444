import type { IndexedPack } from '../index-format.ts';
import { type BlobType, PackBuilder } from '../pack-format.ts';
import type { Repository } from '../repository.ts';
import type { MaintenanceSink } from './events.ts';

export type WriterRepo = Pick<Repository, 'sealer' | 'config' | 'savePack' | 'flushIndex' | 'indexListener'>;

/**
 * Writes blobs into new packs through the repository's normal path (pack stored first, then an index file naming
 * it, then the catalog learns it). Blobs come as their framed payload (flag|body, see payload.ts) so copied or
 * salvaged blobs are re-sealed without being compressed again. Each blob id is written once per writer. Used by
 * `repair packs` / `repair snapshots` and by `prune` (repacking).
 */
export class BlobPackWriter {
  readonly #repo: WriterRepo;
  readonly #builder: PackBuilder;
  readonly #ids = new Set<string>();
  readonly #signal: AbortSignal | undefined;
  readonly #onEvent: MaintenanceSink;
  /** packs stored so far */
  packs = 0;
  blobs = 0;
  /** bytes of the packs stored so far */
  bytes = 0;
  /** index files the repository wrote for these packs */
  indexFiles = 0;
  /** every pack stored, with its entries (where each blob now lives) */
  readonly written: IndexedPack[] = [];

  readonly #reportIndexFiles: boolean;

  /** `reportIndexFiles`: emit a `written` event for each index file the repository writes for these packs too. */
  constructor(repo: WriterRepo, o: { signal?: AbortSignal | undefined; onEvent: MaintenanceSink; reportIndexFiles?: boolean }) {
    this.#repo = repo;
    this.#reportIndexFiles = !!o.reportIndexFiles;
    this.#builder = new PackBuilder(repo.sealer);
    this.#signal = o.signal;
    this.#onEvent = o.onEvent;
  }

  has(hex: string): boolean {
    return this.#ids.has(hex);
  }

  /** Adds a blob unless this writer already holds it; returns whether it was added. */
  async add(id: Buffer, type: BlobType, framed: Uint8Array, rawLength: number): Promise<boolean> {
    const hex = id.toString('hex');
    if (this.#ids.has(hex)) return false;
    this.#ids.add(hex);
    this.#builder.addPayload(id, type, framed, rawLength);
    this.blobs++;
    if (this.#builder.size >= this.#repo.config.packSize) await this.#store();
    return true;
  }

  /** Stores the partial pack and writes the index file for every pack stored. */
  async flush(): Promise<void> {
    if (this.#builder.count > 0) await this.#store();
    await this.#counting(() => this.#repo.flushIndex(this.#signal));
  }

  /** Counts the index files written while `fn` runs (savePack writes one every 64 packs). */
  async #counting(fn: () => Promise<void>): Promise<void> {
    const prev = this.#repo.indexListener;
    this.#repo.indexListener = (packs, name) => {
      this.indexFiles++;
      if (this.#reportIndexFiles) this.#onEvent({ type: 'written', fileType: 'index', name, detail: `${packs.length} pack${packs.length === 1 ? '' : 's'}` });
      prev?.(packs, name);
    };
    try {
      await fn();
    } finally {
      this.#repo.indexListener = prev;
    }
  }

  async #store(): Promise<void> {
    const count = this.#builder.count;
    const p = this.#builder.finish();
    const size = p.data.length;
    await this.#counting(() => this.#repo.savePack(p, this.#signal));
    this.packs++;
    this.bytes += size;
    this.written.push({ id: p.id, blobs: p.blobs });
    this.#onEvent({ type: 'written', fileType: 'pack', name: p.id, detail: `${count} blobs` });
  }
}
