import { type BlobType, PackBuilder } from '../repository/pack-format.ts';
import type { Repository } from '../repository/repository.ts';
import type { RepairSink } from './events.ts';

export type WriterRepo = Pick<Repository, 'sealer' | 'config' | 'savePack' | 'flushIndex' | 'indexListener'>;

/**
 * Writes blobs into new packs through the repository's normal path (pack stored first, then an index file naming
 * it, then the catalog learns it). Blobs come as their framed payload (flag|body, see payload.ts) so salvaged blobs
 * are re-sealed without being compressed again. Each blob id is written once per writer.
 */
export class RepairPackWriter {
  readonly #repo: WriterRepo;
  readonly #builder: PackBuilder;
  readonly #ids = new Set<string>();
  readonly #signal: AbortSignal | undefined;
  readonly #onEvent: RepairSink;
  /** packs stored so far */
  packs = 0;
  blobs = 0;
  /** index files the repository wrote for these packs */
  indexFiles = 0;

  constructor(repo: WriterRepo, o: { signal?: AbortSignal | undefined; onEvent: RepairSink }) {
    this.#repo = repo;
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
    this.#repo.indexListener = (packs) => {
      this.indexFiles++;
      prev?.(packs);
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
    await this.#counting(() => this.#repo.savePack(p, this.#signal));
    this.packs++;
    this.#onEvent({ type: 'written', fileType: 'pack', name: p.id, detail: `${count} blobs` });
  }
}
