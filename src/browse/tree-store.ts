import { IntegrityError } from '../errors.ts';
import type { Tree } from '../model/node.ts';
import { type TreeEntry, entryFromNode } from '../model/tree-entry.ts';
import { isHexId, parseTree } from '../model/tree-parse.ts';
import type { Repository } from '../repository/repository.ts';
import type { TreeCatalog } from '../repository/tree-catalog.ts';
import { Lru } from './lru.ts';

export type TreeRepo = Pick<Repository, 'loadBlob'>;

export interface TreeStoreOptions {
  /** the tree catalog; without it every tree is read from the repository */
  readonly catalog?: TreeCatalog | undefined;
  /** bound of the parsed-tree cache, in bytes of tree JSON (default 32 MiB) */
  readonly treeCacheBytes?: number;
  /** bound of the entry cache, in entries (default 200,000) */
  readonly entryCacheEntries?: number;
  /** told once when the catalog fails; browsing then goes on without it */
  readonly onCatalogError?: (e: unknown) => void;
}

/**
 * Where the browsing commands get trees: full nodes (`tree`, for listing, dump and file contents) from the repository
 * through a small LRU; compact entries (`entries`, for find/history/diff) from the tree catalog, filled lazily: a tree
 * not in it is loaded once and inserted, so a later run reads it from the catalog.
 */
export class TreeStore {
  readonly stats = { treesLoaded: 0, treesFromCatalog: 0, treesStored: 0 };
  readonly #repo: TreeRepo;
  #catalog: TreeCatalog | undefined;
  readonly #onCatalogError: ((e: unknown) => void) | undefined;
  readonly #trees: Lru<string, { tree: Tree; bytes: number }>;
  readonly #entries: Lru<string, readonly TreeEntry[]>;
  readonly #loading = new Map<string, Promise<{ tree: Tree; bytes: number }>>();

  constructor(repo: TreeRepo, o: TreeStoreOptions = {}) {
    this.#repo = repo;
    this.#catalog = o.catalog;
    this.#onCatalogError = o.onCatalogError;
    this.#trees = new Lru(o.treeCacheBytes ?? 32 << 20, (t) => t.bytes);
    this.#entries = new Lru(o.entryCacheEntries ?? 200_000, (e) => e.length + 1);
  }

  /**
   * The parsed, validated tree blob `id` (hex). `cache: false` (one-pass walks such as a recursive listing) neither
   * fills the LRU nor keeps the tree alive, which spares the garbage collector promoting every tree of a big snapshot.
   */
  async tree(id: string, signal?: AbortSignal, o: { cache?: boolean } = {}): Promise<Tree> {
    return (await this.#load(id, signal, o.cache ?? true)).tree;
  }

  /**
   * The tree's entries, from memory, the tree catalog, or the repository (then stored in the catalog). `cache: false`
   * for walks that visit each tree once (find, diff): the entries are then not kept in memory.
   */
  async entries(id: string, signal?: AbortSignal, o: { cache?: boolean } = {}): Promise<readonly TreeEntry[]> {
    const hit = this.#entries.get(id);
    if (hit) return hit;
    if (!isHexId(id)) throw new IntegrityError(`invalid tree id ${JSON.stringify(id)}`);
    const raw = Buffer.from(id, 'hex');
    let got = this.#fromCatalog(raw);
    if (got) this.stats.treesFromCatalog++;
    else {
      got = (await this.tree(id, signal, o)).nodes.map(entryFromNode);
      this.#toCatalog(raw, got);
    }
    if (o.cache ?? true) this.#entries.set(id, got);
    return got;
  }

  #fromCatalog(raw: Buffer): TreeEntry[] | undefined {
    if (!this.#catalog) return undefined;
    try {
      return this.#catalog.entries(raw);
    } catch (e) {
      this.#catalogFailed(e);
      return undefined;
    }
  }

  #toCatalog(raw: Buffer, entries: readonly TreeEntry[]): void {
    if (!this.#catalog) return;
    try {
      this.#catalog.put(raw, entries);
      this.stats.treesStored++;
    } catch (e) {
      this.#catalogFailed(e);
    }
  }

  #catalogFailed(e: unknown): void {
    this.#catalog = undefined;
    this.#onCatalogError?.(e);
  }

  async #load(id: string, signal: AbortSignal | undefined, cache = true): Promise<{ tree: Tree; bytes: number }> {
    const hit = this.#trees.get(id);
    if (hit) return hit;
    const pending = this.#loading.get(id);
    if (pending) return await pending;
    if (!isHexId(id)) throw new IntegrityError(`invalid tree id ${JSON.stringify(id)}`);
    const p = (async () => {
      const raw = await this.#repo.loadBlob(Buffer.from(id, 'hex'), signal);
      const t = { tree: parseTree(raw, id), bytes: raw.length };
      this.stats.treesLoaded++;
      if (cache) this.#trees.set(id, t);
      return t;
    })();
    this.#loading.set(id, p);
    try {
      return await p;
    } finally {
      this.#loading.delete(id);
    }
  }
}
