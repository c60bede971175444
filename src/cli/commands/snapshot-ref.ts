import type { Node } from '../../model/node.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots, resolveSnapshot, SnapshotNotFoundError, type SnapshotFilter } from '../../repository/snapshots.ts';
import { findNode } from '../../restorer/tree-loader.ts';

/** "ID[:PATH]" / "latest[:PATH]" -> the snapshot and the node at PATH (undefined PATH = the snapshot root). */
export async function resolveRef(
  repo: Repository,
  ref: string,
  filter: SnapshotFilter,
  signal: AbortSignal,
  onError?: (name: string, e: unknown) => void,
): Promise<{ snapshot: SnapshotWithId; subpath: string; node: Node | undefined }> {
  const colon = ref.indexOf(':');
  const idPart = colon < 0 ? ref : ref.slice(0, colon);
  const subpath = colon < 0 ? '' : `/${ref.slice(colon + 1).replace(/^\/+|\/+$/g, '')}`;
  const snapshot = resolveSnapshot(await listSnapshots(repo, { signal, ...(onError ? { onError } : {}) }), idPart, filter);
  if (subpath === '' || subpath === '/') return { snapshot, subpath: '', node: undefined };
  const node = await findNode(repo, snapshot.tree, subpath, signal);
  if (!node) throw new SnapshotNotFoundError(`path ${subpath} not found in snapshot ${snapshot.id.slice(0, 8)}`);
  return { snapshot, subpath, node };
}
