import { throwIfAborted } from '../errors.ts';
import type { NodeType } from '../model/node.ts';
import { type TreeEntry, sameContent } from '../model/tree-entry.ts';
import type { Repository } from '../repository/repository.ts';
import type { TreeStore } from './tree-store.ts';

/** restic's markers: + added, - removed, M content modified, U metadata only, T type changed. */
export type DiffMarker = '+' | '-' | 'M' | 'U' | 'T';

export interface DiffChange {
  readonly marker: DiffMarker;
  readonly parts: readonly Buffer[];
  /** the node's type (the new one for T) */
  readonly type: NodeType;
  readonly old: TreeEntry | undefined;
  readonly new: TreeEntry | undefined;
}

export interface SideStats {
  files: number;
  dirs: number;
  others: number;
  dataBlobs: number;
  treeBlobs: number;
  bytes: number;
}

export interface DiffStats {
  changedFiles: number;
  added: SideStats;
  removed: SideStats;
}

const side = (): SideStats => ({ files: 0, dirs: 0, others: 0, dataBlobs: 0, treeBlobs: 0, bytes: 0 });

/** Blob ids seen on one side, as binary strings (32 chars) to keep the sets compact. */
interface Blobs {
  readonly data: Set<string>;
  readonly trees: Set<string>;
}

/**
 * Compares two trees over the tree catalog's entries. Subtrees with equal ids are equal by construction and are
 * skipped without loading; only differing directories are read. Blob statistics follow restic: blobs referenced by
 * the visited (differing) parts of one side and not the other are added/removed, sized from the index.
 */
export class TreeDiff {
  readonly #store: TreeStore;
  readonly #repo: Pick<Repository, 'lookupBlob'>;
  readonly #a: Blobs = { data: new Set(), trees: new Set() };
  readonly #b: Blobs = { data: new Set(), trees: new Set() };
  readonly #stats: DiffStats = { changedFiles: 0, added: side(), removed: side() };

  constructor(store: TreeStore, repo: Pick<Repository, 'lookupBlob'>) {
    this.#store = store;
    this.#repo = repo;
  }

  /** Differences between two directory trees; paths are `prefix` + the names below. */
  async *trees(a: string, b: string, prefix: readonly Buffer[], signal?: AbortSignal): AsyncGenerator<DiffChange> {
    if (a === b) return;
    this.#a.trees.add(a);
    this.#b.trees.add(b);
    const ea = await this.#store.entries(a, signal, { cache: false });
    const eb = await this.#store.entries(b, signal, { cache: false });
    let i = 0;
    let j = 0;
    while (i < ea.length || j < eb.length) {
      throwIfAborted(signal);
      const x = ea[i];
      const y = eb[j];
      const c = x === undefined ? 1 : y === undefined ? -1 : Buffer.compare(x.name, y.name);
      if (c < 0) {
        yield* this.#whole('-', x as TreeEntry, [...prefix, (x as TreeEntry).name], signal);
        i++;
      } else if (c > 0) {
        yield* this.#whole('+', y as TreeEntry, [...prefix, (y as TreeEntry).name], signal);
        j++;
      } else {
        yield* this.pair(x, y, [...prefix, (x as TreeEntry).name], signal);
        i++;
        j++;
      }
    }
  }

  /** One path present on either or both sides. */
  async *pair(a: TreeEntry | undefined, b: TreeEntry | undefined, parts: readonly Buffer[], signal?: AbortSignal): AsyncGenerator<DiffChange> {
    if (!a && !b) return;
    if (!a) return yield* this.#whole('+', b as TreeEntry, parts, signal);
    if (!b) return yield* this.#whole('-', a, parts, signal);
    if (a.type !== b.type) {
      yield { marker: 'T', parts, type: b.type, old: a, new: b };
      if (a.type === 'dir') yield* this.#below('-', a, parts, signal);
      else this.#addBlobs(this.#a, a);
      if (b.type === 'dir') yield* this.#below('+', b, parts, signal);
      else this.#addBlobs(this.#b, b);
      return;
    }
    const metaChanged = !a.meta.equals(b.meta);
    if (a.type === 'dir') {
      if (metaChanged) yield { marker: 'U', parts, type: 'dir', old: a, new: b };
      if (a.subtree && b.subtree) yield* this.trees(a.subtree, b.subtree, parts, signal);
      return;
    }
    this.#addBlobs(this.#a, a);
    this.#addBlobs(this.#b, b);
    if (!sameContent(a, b)) {
      if (a.type === 'file') this.#stats.changedFiles++;
      yield { marker: 'M', parts, type: b.type, old: a, new: b };
    } else if (metaChanged) yield { marker: 'U', parts, type: b.type, old: a, new: b };
  }

  /** A node present on one side only, with everything below it. */
  async *#whole(marker: '+' | '-', e: TreeEntry, parts: readonly Buffer[], signal?: AbortSignal): AsyncGenerator<DiffChange> {
    const s = marker === '+' ? this.#stats.added : this.#stats.removed;
    if (e.type === 'file') s.files++;
    else if (e.type === 'dir') s.dirs++;
    else s.others++;
    yield { marker, parts, type: e.type, old: marker === '-' ? e : undefined, new: marker === '+' ? e : undefined };
    if (e.type === 'dir') yield* this.#below(marker, e, parts, signal);
    else this.#addBlobs(marker === '+' ? this.#b : this.#a, e);
  }

  async *#below(marker: '+' | '-', dir: TreeEntry, parts: readonly Buffer[], signal?: AbortSignal): AsyncGenerator<DiffChange> {
    if (!dir.subtree) return;
    (marker === '+' ? this.#b : this.#a).trees.add(dir.subtree);
    for (const e of await this.#store.entries(dir.subtree, signal, { cache: false })) {
      throwIfAborted(signal);
      yield* this.#whole(marker, e, [...parts, e.name], signal);
    }
  }

  #addBlobs(to: Blobs, e: TreeEntry): void {
    const c = e.content;
    if (!c) return;
    for (let i = 0; i + 32 <= c.length; i += 32) to.data.add(c.toString('latin1', i, i + 32));
  }

  /** Counts and blob statistics so far (complete once the generators are exhausted). */
  stats(): DiffStats {
    const s = this.#stats;
    const count = (mine: Set<string>, other: Set<string>, key: 'dataBlobs' | 'treeBlobs', into: SideStats): void => {
      into[key] = 0;
      for (const id of mine) {
        if (other.has(id)) continue;
        into[key]++;
        into.bytes += this.#repo.lookupBlob(Buffer.from(id, 'latin1'))?.rawLength ?? 0;
      }
    };
    s.added.bytes = 0;
    s.removed.bytes = 0;
    const treeA = new Set([...this.#a.trees].map((h) => Buffer.from(h, 'hex').toString('latin1')));
    const treeB = new Set([...this.#b.trees].map((h) => Buffer.from(h, 'hex').toString('latin1')));
    count(this.#b.data, this.#a.data, 'dataBlobs', s.added);
    count(this.#a.data, this.#b.data, 'dataBlobs', s.removed);
    count(treeB, treeA, 'treeBlobs', s.added);
    count(treeA, treeB, 'treeBlobs', s.removed);
    return structuredClone(s);
  }
}
