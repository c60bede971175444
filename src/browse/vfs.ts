import { createHash } from 'node:crypto';
import { type Node, nodeNameBytes } from '../model/node.ts';
import type { SnapshotWithId } from '../model/snapshot.ts';
import { displayName, matchComponent } from './path.ts';
import type { TreeStore } from './tree-store.ts';

/**
 * A read-only virtual namespace over a repository's snapshots, for the WebDAV server and the mount:
 *
 *   /snapshots/<time-id>/…        every snapshot, named `YYYY-MM-DDTHH-MM-SS_<id8>` (time in UTC)
 *   /hosts/<host>/<time-id>/…     the same, grouped by host
 *   /tags/<tag>/<time-id>/…       the same, grouped by tag (a snapshot with several tags is under each)
 *   /latest/…                     the newest snapshot when all snapshots are of one host; with several hosts,
 *                                 /latest/<host>/… is the newest snapshot of each host
 *
 * A snapshot directory shows its root tree. Names of real nodes are shown as displayName renders them (escapes for
 * bytes that are not UTF-8 and control characters) and resolve back from that form or from the exact bytes.
 * Host and tag names have "/" shown as `\x2f`; an empty host is shown as "_".
 */
export type VType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket';

export interface VStat {
  readonly type: VType;
  readonly size: number;
  /** milliseconds since the epoch */
  readonly mtimeMs: number;
  /** permission bits */
  readonly mode: number;
  /** stable identity: a tree id, a hash of the content ids, or of the virtual directory's snapshots */
  readonly etag: string;
}

export interface VNode {
  /** the shown name (empty for the root) */
  readonly name: string;
  readonly stat: VStat;
  /** a real node (undefined for virtual directories and snapshot roots) */
  readonly node?: Node;
  /** the tree shown by a real directory or snapshot root */
  readonly treeId?: string;
  /** the children of a virtual directory */
  readonly children?: () => VNode[];
}

const SEP = /\//g;
const shownLabel = (s: string): string => (s === '' ? '_' : displayName(Buffer.from(s, 'utf8')).replace(SEP, '\\x2f'));

/** `2026-11-24T22-30-05_1a2b3c4d`: the snapshot time in UTC, to the second, and the short id. */
export function timeId(s: Pick<SnapshotWithId, 'time' | 'id'>): string {
  const d = new Date(s.time);
  const t = Number.isNaN(d.getTime()) ? '0000-00-00T00-00-00' : d.toISOString().slice(0, 19).replace(/:/g, '-');
  return `${t}_${s.id.slice(0, 8)}`;
}

const msOf = (s: Pick<SnapshotWithId, 'time'>): number => {
  const t = new Date(s.time).getTime();
  return Number.isNaN(t) ? 0 : t;
};

const hash = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

/** Nanosecond decimal string → milliseconds. */
export function nsToMs(ns: string | undefined): number {
  if (ns === undefined || !/^-?\d+$/.test(ns)) return 0;
  return Number(BigInt(ns) / 1_000_000n);
}

/** The stat of a real node; `size` of a file is its recorded size. */
export function nodeStat(n: Node): VStat {
  const etag = n.type === 'dir' ? (n.subtree ?? hash('empty-dir')) : n.type === 'file' ? hash(...(n.content ?? [])) : hash(n.type, n.linkTarget ?? '', n.linkTargetRaw ?? '', n.rdev ?? '');
  return { type: n.type, size: n.type === 'file' ? (n.size ?? 0) : 0, mtimeMs: nsToMs(n.mtime), mode: n.mode & 0o7777, etag };
}

function virtualDir(name: string, mtimeMs: number, etag: string, children: () => VNode[]): VNode {
  return { name, stat: { type: 'dir', size: 0, mtimeMs, mode: 0o555, etag }, children };
}

function snapshotDir(name: string, s: SnapshotWithId): VNode {
  return { name, stat: { type: 'dir', size: 0, mtimeMs: msOf(s), mode: 0o555, etag: s.tree }, treeId: s.tree };
}

/** The namespace over a fixed list of snapshots (oldest first, as listSnapshots gives them). */
export class Vfs {
  readonly #store: TreeStore;
  readonly #root: VNode;

  constructor(store: TreeStore, snapshots: readonly SnapshotWithId[]) {
    this.#store = store;
    const snaps = [...snapshots];
    const newest = snaps.reduce((m, s) => Math.max(m, msOf(s)), 0);
    const tag = hash(...snaps.map((s) => s.id));
    const list = (of: readonly SnapshotWithId[]) => (): VNode[] => of.map((s) => snapshotDir(timeId(s), s));
    const groups = (key: (s: SnapshotWithId) => readonly string[]): Map<string, SnapshotWithId[]> => {
      const m = new Map<string, SnapshotWithId[]>();
      for (const s of snaps) for (const k of new Set(key(s).map(shownLabel))) m.set(k, [...(m.get(k) ?? []), s]);
      return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    };
    const grouped = (name: string, key: (s: SnapshotWithId) => readonly string[]): VNode => {
      const g = groups(key);
      return virtualDir(name, newest, hash(name, tag), () => [...g].map(([k, of]) => virtualDir(k, of.reduce((m, s) => Math.max(m, msOf(s)), 0), hash(name, k, ...of.map((s) => s.id)), list(of))));
    };
    const hosts = groups((s) => [s.hostname]);
    const latestOf = (of: readonly SnapshotWithId[]): SnapshotWithId | undefined => of[of.length - 1];
    const only = hosts.size === 1 ? latestOf(snaps) : undefined;
    const latest = only
      ? snapshotDir('latest', only)
      : virtualDir('latest', newest, hash('latest', tag), () => [...hosts].map(([h, of]) => snapshotDir(h, latestOf(of) as SnapshotWithId)));
    const top = [
      grouped('hosts', (s) => [s.hostname]),
      latest,
      virtualDir('snapshots', newest, hash('snapshots', tag), list(snaps)),
      grouped('tags', (s) => s.tags ?? []),
    ];
    this.#root = virtualDir('', newest, hash('root', tag), () => top);
  }

  get root(): VNode {
    return this.#root;
  }

  /** The entries of a directory, sorted as stored (real) or by name (virtual). Not a directory: []. */
  async readdir(dir: VNode, signal?: AbortSignal): Promise<VNode[]> {
    if (dir.children) return dir.children();
    if (dir.treeId === undefined) return [];
    const tree = await this.#store.tree(dir.treeId, signal);
    return tree.nodes.map((n) => realNode(n));
  }

  /** Follows path components (decoded request segments: strings, or raw bytes that are not UTF-8). */
  async lookup(parts: readonly (string | Buffer)[], signal?: AbortSignal): Promise<VNode | undefined> {
    let cur: VNode = this.#root;
    for (const p of parts) {
      const next = await this.child(cur, p, signal);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  /** One child of `dir` by shown name, exact bytes, or (for real nodes) any form matchComponent accepts. */
  async child(dir: VNode, part: string | Buffer, signal?: AbortSignal): Promise<VNode | undefined> {
    if (dir.children) {
      const s = typeof part === 'string' ? part : undefined;
      return s === undefined ? undefined : dir.children().find((c) => c.name === s);
    }
    if (dir.treeId === undefined) return undefined;
    const nodes = (await this.#store.tree(dir.treeId, signal)).nodes;
    let hit: Node | undefined;
    if (typeof part === 'string') {
      hit = matchComponent(nodes, nodeNameBytes, part);
      // the shown form of a name with control characters, or a raw name that displayName escapes
      hit ??= nodes.find((n) => displayName(nodeNameBytes(n)) === part);
    } else hit = nodes.find((n) => nodeNameBytes(n).equals(part));
    return hit ? realNode(hit) : undefined;
  }
}

function realNode(n: Node): VNode {
  const base = { name: displayName(nodeNameBytes(n)), stat: nodeStat(n), node: n };
  return n.type === 'dir' && n.subtree !== undefined ? { ...base, treeId: n.subtree } : base;
}
