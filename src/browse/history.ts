import { throwIfAborted } from '../errors.ts';
import type { SnapshotWithId } from '../model/snapshot.ts';
import { type TreeEntry, sameContent } from '../model/tree-entry.ts';
import { matchComponent } from './path.ts';
import type { TreeStore } from './tree-store.ts';

/**
 * added: first seen in its group; changed: other content (blob list, subtree, link target) or another type;
 * metadata: same content, other mode/owner/mtime/xattrs; unchanged: as before; deleted: absent in a later snapshot of
 * the group; reappeared: present again after being deleted.
 */
export type HistoryKind = 'added' | 'changed' | 'metadata' | 'unchanged' | 'deleted' | 'reappeared';

export interface HistoryEvent {
  readonly kind: HistoryKind;
  readonly snapshot: SnapshotWithId;
  /** the version (undefined for `deleted`) */
  readonly entry: TreeEntry | undefined;
  /** raw path parts as found (names are matched leniently, see matchComponent) */
  readonly parts: readonly Buffer[] | undefined;
  /** directories: number of entries */
  readonly entries?: number;
}

/** Snapshots of one host and path set, as restic groups them for `forget`. */
export interface HistoryGroup {
  readonly host: string;
  readonly paths: readonly string[];
  readonly events: HistoryEvent[];
  /** snapshots of the group that hold the path */
  present: number;
  /** snapshots in the group */
  total: number;
}

/**
 * Every version of one path across `snapshots` (oldest first), per host/paths group. Lookups go through the tree
 * catalog and are memoized per (tree, depth), so snapshots sharing a directory cost one lookup.
 */
export async function history(store: TreeStore, snapshots: readonly SnapshotWithId[], comps: readonly string[], o: { all?: boolean; signal?: AbortSignal } = {}): Promise<HistoryGroup[]> {
  const memo = new Map<string, Promise<{ entry: TreeEntry; parts: Buffer[] } | undefined>>();
  const find = (treeId: string, depth: number): Promise<{ entry: TreeEntry; parts: Buffer[] } | undefined> => {
    const key = `${treeId}:${depth}`;
    let p = memo.get(key);
    if (!p) {
      p = (async () => {
        const e = matchComponent(await store.entries(treeId, o.signal), (x) => x.name, comps[depth] as string);
        if (!e) return undefined;
        if (depth === comps.length - 1) return { entry: e, parts: [e.name] };
        if (e.type !== 'dir' || !e.subtree) return undefined;
        const below = await find(e.subtree, depth + 1);
        return below ? { entry: below.entry, parts: [e.name, ...below.parts] } : undefined;
      })();
      memo.set(key, p);
    }
    return p;
  };
  const groups = new Map<string, HistoryGroup & { last: TreeEntry | undefined; seen: boolean }>();
  for (const s of snapshots) {
    throwIfAborted(o.signal);
    const paths = [...s.paths].sort();
    const key = JSON.stringify([s.hostname, paths]);
    let g = groups.get(key);
    if (!g) {
      g = { host: s.hostname, paths, events: [], present: 0, total: 0, last: undefined, seen: false };
      groups.set(key, g);
    }
    const got = comps.length === 0 ? undefined : await find(s.tree, 0);
    const entry = got?.entry;
    const kind = classify(g.last, entry, g.seen);
    g.total++;
    if (entry) g.present++;
    if (kind !== undefined && (kind !== 'unchanged' || o.all)) {
      const ev: HistoryEvent = {
        kind,
        snapshot: s,
        entry,
        parts: got?.parts,
        ...(entry?.type === 'dir' && entry.subtree ? { entries: (await store.entries(entry.subtree, o.signal)).length } : {}),
      };
      g.events.push(ev);
    }
    g.seen ||= entry !== undefined;
    g.last = entry;
  }
  return [...groups.values()].map(({ last: _l, seen: _s, ...g }) => g);
}

function classify(prev: TreeEntry | undefined, cur: TreeEntry | undefined, seen: boolean): HistoryKind | undefined {
  if (!cur) return prev ? 'deleted' : undefined;
  if (!prev) return seen ? 'reappeared' : 'added';
  if (!sameContent(prev, cur)) return 'changed';
  if (!prev.meta.equals(cur.meta)) return 'metadata';
  return 'unchanged';
}
