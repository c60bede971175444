import { PyBackupError, throwIfAborted } from '../errors.ts';
import type { Node } from '../model/node.ts';
import { parseTree } from '../model/tree-parse.ts';
import type { Tree } from '../model/node.ts';
import type { BlobType } from '../repository/pack-format.ts';
import type { Repository } from '../repository/repository.ts';
import { REMOVED_LIMIT } from './events.ts';

export type TreeRepo = Pick<Repository, 'loadBlob'>;

export interface Rewritten {
  /** the tree's id after the repair (the same id when nothing in it was lost) */
  readonly id: string;
  /** paths relative to this tree that were left out; a directory whose contents were lost ends in "/" */
  readonly removed: readonly string[];
  /** all removed paths, listed or not */
  readonly removedCount: number;
}

/** Damage, as opposed to a failure that trying again may fix: a missing or corrupt blob, an invalid tree. */
export function isDamage(e: unknown): boolean {
  return e instanceof PyBackupError && (e.code === 'INTEGRITY' || e.code === 'NOT_FOUND' || e.code === 'INVALID_INPUT');
}

/**
 * Rewrites trees so that they only reference blobs that exist: a file with a content blob that is not available
 * is left out; a directory whose tree is missing or unreadable keeps its metadata and gets an empty tree. Changed
 * trees are saved bottom-up through `save` (which serializes them as backup does, so unchanged directories keep
 * their ids and identical ones dedupe); each tree is rewritten once however many snapshots share it.
 */
export class TreeRewriter {
  readonly #repo: TreeRepo;
  readonly #available: (hex: string, type: BlobType) => boolean;
  readonly #save: (nodes: Node[]) => Promise<string>;
  readonly #signal: AbortSignal | undefined;
  readonly #done = new Map<string, Rewritten>();
  #empty: string | undefined;
  /** trees read */
  trees = 0;

  constructor(repo: TreeRepo, available: (hex: string, type: BlobType) => boolean, save: (nodes: Node[]) => Promise<string>, signal?: AbortSignal) {
    this.#repo = repo;
    this.#available = available;
    this.#save = save;
    this.#signal = signal;
  }

  /** Rewrites tree `id` and everything below it. Throws when `id` itself cannot be read (isDamage tells why). */
  async rewrite(id: string): Promise<Rewritten> {
    const known = this.#done.get(id);
    if (known) return known;
    throwIfAborted(this.#signal);
    const tree = await this.#load(id);
    let changed = false;
    const nodes: Node[] = [];
    const removed: string[] = [];
    let removedCount = 0;
    const note = (paths: readonly string[], count: number): void => {
      for (const p of paths) if (removed.length < REMOVED_LIMIT) removed.push(p);
      removedCount += count;
    };
    for (const n of tree.nodes) {
      if (n.type === 'file' && !(n.content ?? []).every((c) => this.#available(c, 'data'))) {
        changed = true;
        note([n.name], 1);
        continue;
      }
      if (n.type !== 'dir' || n.subtree === undefined) {
        nodes.push(n);
        continue;
      }
      const sub = await this.#subtree(n.subtree);
      if (!sub) {
        changed = true;
        nodes.push({ ...n, subtree: await this.#emptyTree() });
        note([`${n.name}/`], 1);
      } else if (sub.id !== n.subtree) {
        changed = true;
        nodes.push({ ...n, subtree: sub.id });
        note(sub.removed.map((p) => `${n.name}/${p}`), sub.removedCount);
      } else {
        nodes.push(n);
      }
    }
    const result: Rewritten = { id: changed ? await this.#save(nodes) : id, removed, removedCount };
    this.#done.set(id, result);
    return result;
  }

  /** The rewritten subtree, or undefined when it is unavailable or damaged. */
  async #subtree(id: string): Promise<Rewritten | undefined> {
    if (!this.#available(id, 'tree')) return undefined;
    try {
      return await this.rewrite(id);
    } catch (e) {
      if (isDamage(e)) return undefined;
      throw e;
    }
  }

  async #load(id: string): Promise<Tree> {
    if (!this.#available(id, 'tree')) throw new PyBackupError('NOT_FOUND', `tree ${id} is not in the index`);
    this.trees++;
    return parseTree(await this.#repo.loadBlob(Buffer.from(id, 'hex'), this.#signal), id);
  }

  async #emptyTree(): Promise<string> {
    return (this.#empty ??= await this.#save([]));
  }
}
