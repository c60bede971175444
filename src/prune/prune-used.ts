import { AbortedError, PyBackupError, throwIfAborted } from '../errors.ts';
import { isHexId, parseTree } from '../model/tree-parse.ts';
import { openBlob } from '../repository/blob-codec.ts';
import { BlobIdSet } from '../repository/maintenance/blob-set.ts';
import type { IndexState } from '../repository/maintenance/repo-state.ts';
import type { PackBlob } from '../repository/pack-format.ts';
import type { Repository } from '../repository/repository.ts';

export type UsedRepo = Pick<Repository, 'backend' | 'sealer' | 'key' | 'loadJson'>;

/** Prune will not delete anything on an incomplete view of what snapshots use. */
export class PruneRefusedError extends PyBackupError {
  constructor(message: string) {
    super('INTEGRITY', `prune refused: ${message}; run "pybackup check" (and "pybackup repair ..." as it suggests) first`);
  }
}

export interface TreeLocation {
  readonly pack: string;
  readonly blob: PackBlob;
}

/** Where each tree blob can be read: a location in a pack that exists (any, marked or not). */
export function treeLocations(state: IndexState, sizes: ReadonlyMap<string, number>): Map<string, TreeLocation> {
  const out = new Map<string, TreeLocation>();
  for (const [pack, p] of state.packs) {
    if (!sizes.has(pack)) continue;
    for (const b of p.blobs) if (b.type === 'tree') out.set(b.id.toString('hex'), { pack, blob: b });
  }
  return out;
}

/** Every snapshot's id and root tree, except those in `seen`. An unreadable snapshot refuses the prune. */
export async function loadSnapshotRoots(repo: UsedRepo, seen: ReadonlySet<string>, signal?: AbortSignal): Promise<{ id: string; tree: string }[]> {
  const names: string[] = [];
  for await (const f of repo.backend.list('snapshot', signal ? { signal } : undefined)) if (!seen.has(f.name)) names.push(f.name);
  names.sort();
  const out: { id: string; tree: string }[] = [];
  for (const id of names) {
    throwIfAborted(signal);
    let tree: unknown;
    try {
      tree = (await repo.loadJson<{ tree?: unknown }>('snapshot', id, signal))?.tree;
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
      throw new PruneRefusedError(`snapshot ${id} is unreadable (${(e as Error).message})`);
    }
    if (!isHexId(tree)) throw new PruneRefusedError(`snapshot ${id} has no valid tree id`);
    out.push({ id, tree });
  }
  return out;
}

const LOADS_IN_FLIGHT = 8;

/**
 * The used set: every tree and data blob some snapshot references, walked from the snapshots' root trees through
 * the index files (never the catalog). A tree is walked once: it is skipped when its id is in both the used set
 * (first 8 bytes) and the visited set (bytes 8..16), so a prefix collision cannot hide a subtree. A tree that is
 * missing or unreadable refuses the prune.
 */
export class UsedBlobs {
  readonly ids = new BlobIdSet(1 << 16);
  readonly #visited = new BlobIdSet(1 << 12, 8);
  readonly #repo: UsedRepo;
  trees = 0;

  constructor(repo: UsedRepo) {
    this.#repo = repo;
  }

  /** Adds the blobs reachable from `roots` (tree ids). */
  async walk(roots: readonly string[], trees: ReadonlyMap<string, TreeLocation>, o: { signal?: AbortSignal | undefined; onTree?: (n: number) => void } = {}): Promise<void> {
    const queue: string[] = [];
    const enqueue = (hex: string): void => {
      const a = this.ids.add(hex);
      const b = this.#visited.add(hex);
      if (a || b) queue.push(hex);
    };
    for (const r of roots) enqueue(r);
    let running = 0;
    let failed = false;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown): void => {
        failed = true;
        reject(e);
      };
      const pump = (): void => {
        if (failed) return;
        if (o.signal?.aborted) return fail(new AbortedError());
        while (running < LOADS_IN_FLIGHT && queue.length > 0) {
          const id = queue.pop() as string;
          running++;
          this.#children(id, trees, o.signal).then(
            (subtrees) => {
              running--;
              this.trees++;
              o.onTree?.(this.trees);
              for (const s of subtrees) enqueue(s);
              pump();
            },
            fail,
          );
        }
        if (running === 0 && queue.length === 0) resolve();
      };
      pump();
    });
  }

  /** Loads one tree, adds its file contents to the set and returns its subtrees. */
  async #children(id: string, trees: ReadonlyMap<string, TreeLocation>, signal?: AbortSignal): Promise<string[]> {
    const loc = trees.get(id);
    if (!loc) throw new PruneRefusedError(`tree ${id} is not in any index (or only in missing packs)`);
    let nodes;
    try {
      const box = await this.#repo.backend.load({ type: 'pack', name: loc.pack }, { offset: loc.blob.offset, length: loc.blob.length }, signal ? { signal } : undefined);
      nodes = parseTree(openBlob(box, this.#repo.sealer, this.#repo.key.id, loc.blob.id, loc.blob.rawLength), id).nodes;
    } catch (e) {
      // damage refuses; anything else (an abort, a failing backend) fails the prune as it is
      if (!(e instanceof PyBackupError && ['INTEGRITY', 'INVALID_INPUT', 'NOT_FOUND'].includes(e.code))) throw e;
      throw new PruneRefusedError(`tree ${id} in pack ${loc.pack} is unreadable (${(e as Error).message})`);
    }
    const subtrees: string[] = [];
    for (const n of nodes) {
      if (n.type === 'file') for (const c of n.content ?? []) this.ids.add(c);
      else if (n.type === 'dir' && n.subtree) {
        if (!isHexId(n.subtree)) throw new PruneRefusedError(`tree ${id} has an invalid subtree id`);
        subtrees.push(n.subtree);
      }
    }
    return subtrees;
  }
}

/**
 * How many used blobs have no indexed location in a pack that exists. Prune refuses when any is missing: such a
 * snapshot is already damaged, and a blob held only by a pack no index lists would otherwise be deleted with it.
 */
export function missingUsed(used: BlobIdSet, state: IndexState, sizes: ReadonlyMap<string, number>): number {
  used.clearFlags();
  for (const [pack, p] of state.packs) {
    if (!sizes.has(pack)) continue;
    for (const b of p.blobs) used.flag(b.id);
  }
  return used.size - used.flagged;
}
