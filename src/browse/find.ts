import { throwIfAborted } from '../errors.ts';
import type { NodeType } from '../model/node.ts';
import type { TreeEntry } from '../model/tree-entry.ts';
import type { NameMatcher } from './pattern.ts';
import type { TreeStore } from './tree-store.ts';

export interface FindMatch {
  /** raw path parts from the snapshot root */
  readonly parts: readonly Buffer[];
  readonly entry: TreeEntry;
}

export interface FindFilter {
  readonly match: NameMatcher;
  /** only nodes modified at or after this time (ns since the epoch) */
  readonly oldest?: bigint | undefined;
  /** only nodes modified at or before this time */
  readonly newest?: bigint | undefined;
  readonly types?: ReadonlySet<NodeType> | undefined;
}

const NONE: readonly FindMatch[] = Object.freeze([]);

/**
 * Finds nodes across snapshots over the tree catalog's entries. The matches under one directory depend only on its
 * tree id and its path, so they are computed once per (tree, path) and reused by every later snapshot that holds the
 * same directory at the same place: an unchanged subtree costs one map lookup, not a walk.
 */
export class Finder {
  readonly #store: TreeStore;
  readonly #f: FindFilter;
  readonly #memo = new Map<string, readonly FindMatch[]>();

  constructor(store: TreeStore, filter: FindFilter) {
    this.#store = store;
    this.#f = filter;
  }

  /** The matches of one snapshot, in tree order (each directory before its contents). */
  async find(rootTree: string, signal?: AbortSignal): Promise<readonly FindMatch[]> {
    return await this.#dir(rootTree, [], '', '', signal);
  }

  #test(e: TreeEntry, name: string, path: string): boolean {
    const f = this.#f;
    if (f.types && !f.types.has(e.type)) return false;
    if (f.oldest !== undefined || f.newest !== undefined) {
      const t = BigInt(e.mtime);
      if (f.oldest !== undefined && t < f.oldest) return false;
      if (f.newest !== undefined && t > f.newest) return false;
    }
    return f.match(name, path);
  }

  async #dir(treeId: string, parts: readonly Buffer[], path: string, key: string, signal: AbortSignal | undefined): Promise<readonly FindMatch[]> {
    const memoKey = `${treeId}${key}`;
    const hit = this.#memo.get(memoKey);
    if (hit) return hit;
    throwIfAborted(signal);
    let out: FindMatch[] | undefined;
    // each (tree, path) is visited once (memo), so the entries need not stay in memory
    for (const e of await this.#store.entries(treeId, signal, { cache: false })) {
      const name = e.name.toString('utf8');
      const p = `${path}/${name}`;
      let ps: Buffer[] | undefined;
      if (this.#test(e, name, p)) {
        ps = [...parts, e.name];
        (out ??= []).push({ parts: ps, entry: e });
      }
      if (e.type === 'dir' && e.subtree) {
        const sub = await this.#dir(e.subtree, ps ?? [...parts, e.name], p, `${key}/${e.name.toString('latin1')}`, signal);
        if (sub.length > 0) {
          out ??= [];
          for (const m of sub) out.push(m);
        }
      }
    }
    const res = out ?? NONE;
    this.#memo.set(memoKey, res);
    return res;
  }
}
