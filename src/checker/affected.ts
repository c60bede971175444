import { throwIfAborted } from '../errors.ts';
import { AFFECTED_LIMIT, type Affected } from './events.ts';
import type { AffectedMap } from './findings.ts';
import type { TreeRefs } from './tree-cache.ts';
import type { TreeLoader } from './tree-walk.ts';

export interface AffectedOptions {
  readonly snapshots: readonly { readonly id: string; readonly tree: string }[];
  /** missing or damaged blob ids (hex) */
  readonly bad: ReadonlySet<string>;
  readonly load: TreeLoader;
  readonly signal?: AbortSignal;
  /** places listed per blob; the rest are counted */
  readonly limit?: number;
}

/**
 * Maps bad blobs to the places they damage: `snapshot id` + path of each file whose content uses a bad data blob,
 * and of each directory whose tree is bad ("/" for a snapshot's root). One depth-first pass marks the trees that lead
 * to damage (each tree loaded once, clean ones forgotten at once); paths are then expanded through those only.
 */
export async function mapAffected(o: AffectedOptions): Promise<AffectedMap> {
  const limit = o.limit ?? AFFECTED_LIMIT;
  const out = new Map<string, { places: Affected[]; more: number }>();
  const add = (blob: string, place: Affected): void => {
    let e = out.get(blob);
    if (!e) out.set(blob, (e = { places: [], more: 0 }));
    if (e.places.length < limit) e.places.push(place);
    else e.more++;
  };
  if (o.bad.size === 0) return out;
  /** tree id -> the tree when something below it is bad, null when clean */
  const state = new Map<string, TreeRefs | null>();
  const onPath = new Set<string>();

  const mark = async (id: string): Promise<boolean> => {
    if (o.bad.has(id)) return true;
    const known = state.get(id);
    if (known !== undefined) return known !== null;
    if (onPath.has(id)) return false; // a cycle (only a crafted repository has one): ignore the back edge
    throwIfAborted(o.signal);
    let tree: TreeRefs;
    try {
      tree = await o.load(id, o.signal);
    } catch (e) {
      if ((e as { code?: string }).code === 'ABORTED') throw e;
      state.set(id, null);
      return false;
    }
    onPath.add(id);
    let found = false;
    for (const n of tree.nodes) {
      if (n.type === 'file') {
        if (n.content?.some((c) => o.bad.has(c))) found = true;
      } else if (n.type === 'dir' && n.subtree && (await mark(n.subtree))) found = true;
    }
    onPath.delete(id);
    state.set(id, found ? tree : null);
    return found;
  };

  const expand = (snapshot: string, id: string, path: string): void => {
    if (o.bad.has(id)) {
      add(id, { snapshot, path: path || '/' });
      return;
    }
    const tree = state.get(id);
    if (!tree || onPath.has(id)) return;
    onPath.add(id);
    for (const n of tree.nodes) {
      const p = `${path}/${n.name}`;
      if (n.type === 'file') {
        for (const c of new Set(n.content ?? [])) if (o.bad.has(c)) add(c, { snapshot, path: p });
      } else if (n.type === 'dir' && n.subtree) expand(snapshot, n.subtree, p);
    }
    onPath.delete(id);
  };

  for (const s of o.snapshots) {
    if (await mark(s.tree)) expand(s.id, s.tree, '');
  }
  return out;
}
