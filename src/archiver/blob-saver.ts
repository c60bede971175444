import { rm } from 'node:fs/promises';
import { blobIdOf } from '../crypto/master-key.ts';
import type { SpooledPack } from '../repository/pack-spool.ts';
import { type BlobType, type FinishedPack, PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import type { Repository } from '../repository/repository.ts';

export type BlobSaverRepo = Pick<Repository, 'config' | 'key' | 'sealer' | 'catalog' | 'savePack'>;

export interface SaveStats {
  dataBlobs: number;
  treeBlobs: number;
  dataAdded: number;
  dataAddedPacked: number;
}

/**
 * Main-thread blob writer (trees, stdin data): deduplicates against the catalog and this session, packs,
 * and stores packs. Also stores packs that workers finished, so all pack writes are counted in one place.
 */
export class BlobSaver {
  readonly #repo: BlobSaverRepo;
  readonly #pack: PackBuilder;
  readonly #session = new Set<string>();
  readonly #stores = new Set<Promise<void>>();
  readonly #dryRun: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #level: number;
  readonly stats: SaveStats = { dataBlobs: 0, treeBlobs: 0, dataAdded: 0, dataAddedPacked: 0 };

  /** `compression`: the zstd level for this session's blobs (default: the repository's) */
  constructor(repo: BlobSaverRepo, o: { dryRun: boolean; signal?: AbortSignal | undefined; compression?: number | undefined }) {
    this.#repo = repo;
    this.#level = o.compression ?? repo.config.compression;
    this.#pack = new PackBuilder(repo.sealer);
    this.#dryRun = o.dryRun;
    this.#signal = o.signal;
  }

  /** Returns the blob id (hex) and whether the blob was new. */
  async save(type: BlobType, plain: Buffer): Promise<{ id: string; isNew: boolean }> {
    const id = blobIdOf(this.#repo.key.id, plain);
    const hex = id.toString('hex');
    if (this.#session.has(hex) || this.#repo.catalog.hasBlob(id)) return { id: hex, isNew: false };
    this.#session.add(hex);
    this.stats.dataAdded += plain.length;
    this.#pack.addPayload(id, type, encodePayload(plain, { level: this.#level }), plain.length);
    if (this.#pack.size >= this.#repo.config.packSize) await this.store(this.#pack.finish());
    return { id: hex, isNew: true };
  }

  async store(p: FinishedPack | SpooledPack): Promise<void> {
    for (const b of p.blobs) {
      if (b.type === 'data') this.stats.dataBlobs++;
      else this.stats.treeBlobs++;
      this.stats.dataAddedPacked += b.length;
    }
    if (this.#dryRun) {
      if ('path' in p) await rm(p.path, { force: true });
      return;
    }
    const s = this.#repo.savePack(p, this.#signal);
    this.#stores.add(s);
    try {
      await s;
    } finally {
      this.#stores.delete(s);
    }
  }

  /** Stores the partial pack and waits for every store in flight. */
  async flush(): Promise<void> {
    if (this.#pack.count > 0) await this.store(this.#pack.finish());
    await Promise.all(this.#stores);
  }
}
