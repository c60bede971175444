import { AbortedError, PyBackupError } from '../errors.ts';
import type { CheckIndex } from './check-index.ts';
import type { FindingLog } from './findings.ts';
import type { TreeRefs } from './tree-cache.ts';

/** Loads and validates one tree blob (through the check's own index). */
export type TreeLoader = (id: string, signal?: AbortSignal) => Promise<TreeRefs>;

const LOADS_IN_FLIGHT = 8;
const YIELD_EVERY = 16;

interface Item {
  readonly id: string;
  /** who references it, for messages */
  readonly where: string;
}

/**
 * Walks every snapshot's trees, each tree blob once, several loads in flight: loads and validates every tree and
 * checks that every blob it references is in the index with the right type. Missing blobs and unreadable trees are
 * held in the finding log (to be mapped to paths later); `referenced` ends up holding every referenced blob.
 */
export class TreeWalker {
  readonly #index: CheckIndex;
  readonly #log: FindingLog;
  readonly #load: TreeLoader;
  readonly #signal: AbortSignal | undefined;
  /** every blob a snapshot references (hex), trees included */
  readonly referenced = new Set<string>();
  /** referenced trees that are missing, damaged or unreadable: the walk could not see below them */
  unvisitedTrees = 0;
  trees = 0;

  constructor(index: CheckIndex, log: FindingLog, load: TreeLoader, signal?: AbortSignal) {
    this.#index = index;
    this.#log = log;
    this.#load = load;
    this.#signal = signal;
  }

  /** Walks from the snapshots' root trees; resolves when every reachable tree was visited. */
  async walk(roots: readonly { readonly snapshot: string; readonly tree: string }[]): Promise<void> {
    const queue: Item[] = [];
    for (const r of roots) this.#enqueue(queue, r.tree, `snapshot ${r.snapshot}`);
    let running = 0;
    let failed = false;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        if (failed) return;
        if (this.#signal?.aborted) {
          failed = true;
          reject(new AbortedError());
          return;
        }
        while (running < LOADS_IN_FLIGHT && queue.length > 0) {
          const item = queue.pop() as Item;
          running++;
          this.#tree(item).then(
            (tree) => {
              running--;
              if (tree) this.#children(queue, item.id, tree);
              pump();
            },
            (e: unknown) => {
              failed = true;
              reject(e);
            },
          );
        }
        if (running === 0 && queue.length === 0) resolve();
      };
      pump();
    });
  }

  #enqueue(queue: Item[], id: string, where: string): void {
    if (this.referenced.has(id)) return;
    if (this.#blobBad(id, 'tree', where)) {
      this.unvisitedTrees++;
      return;
    }
    queue.push({ id, where });
  }

  #children(queue: Item[], id: string, tree: TreeRefs): void {
    for (const n of tree.nodes) {
      if (n.type === 'file') {
        for (const c of n.content ?? []) this.#blobBad(c, 'data', `file ${JSON.stringify(n.name)} in tree ${id}`);
      } else if (n.type === 'dir' && n.subtree) {
        this.#enqueue(queue, n.subtree, `directory ${JSON.stringify(n.name)} in tree ${id}`);
      }
    }
  }

  /** Notes a referenced blob; true when it is missing or damaged (a missing one is reported once). */
  #blobBad(hex: string, type: 'data' | 'tree', where: string): boolean {
    if (this.referenced.has(hex)) return this.#log.bad.has(hex);
    this.referenced.add(hex);
    if (this.#log.bad.has(hex)) return true;
    const loc = this.#index.lookup(hex);
    if (loc && loc.blob.type === type) return false;
    const message = loc
      ? `${where} references ${type} blob ${hex}, but pack ${loc.pack.id} holds it as a ${loc.blob.type} blob`
      : `${type} blob ${hex} is not in any index (referenced by ${where})`;
    this.#log.hold({ severity: 'error', code: 'blob-missing', blob: hex, blobType: type, ...(loc ? { pack: loc.pack.id } : {}), message }, [hex]);
    return true;
  }

  /** Loads one tree; undefined when it is unreadable (then reported). */
  async #tree(item: Item): Promise<TreeRefs | undefined> {
    // cached trees load without I/O: yield now and then so that other work (read-data) keeps flowing
    if (++this.trees % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    try {
      return await this.#load(item.id, this.#signal);
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
      const pack = this.#index.lookup(item.id)?.pack.id;
      this.unvisitedTrees++;
      const message = `tree ${item.id}${pack ? ` in pack ${pack}` : ''} (referenced by ${item.where}) is unreadable: ${(e as Error).message}`;
      this.#log.hold({ severity: 'error', code: 'tree-damaged', blob: item.id, blobType: 'tree', ...(pack ? { pack } : {}), message }, [item.id]);
      return undefined;
    }
  }
}
