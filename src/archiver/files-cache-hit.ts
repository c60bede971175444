import type { BigIntStats } from 'node:fs';
import type { Node, Xattr } from '../model/node.ts';
import type { Catalog } from '../repository/catalog.ts';
import { addXattrs } from './node-from-stat.ts';

/**
 * The files cache's answer for a regular file: when the catalog has an entry for `path` with the same size, mtime,
 * ctime and inode and every content blob is still indexed, fills in `node` (content ids, and xattrs — cached ones
 * are valid while the ctime, which xattr changes bump, is unchanged) and returns 'hit'. Otherwise the file must be
 * read: 'changed' when there was an entry, 'new' when there was none. A trusted row's blobs are known to be indexed
 * (catalog-sessions.ts) and are not looked up; a hit on any other row is written again under the current session.
 */
export function filesCacheLookup(cat: Catalog, node: Node, path: Buffer, st: BigIntStats, o: { xattrs: boolean; fsPath: Buffer }): 'hit' | 'changed' | 'new' {
  const cached = cat.file(path);
  if (!cached) return 'new';
  if (cached.size !== Number(st.size) || cached.mtimeNs !== st.mtimeNs || cached.ctimeNs !== st.ctimeNs || cached.inode !== BigInt.asIntN(64, st.ino)) return 'changed';
  const ids: string[] = [];
  for (let p = 0; p < cached.content.length; p += 32) {
    const id = cached.content.subarray(p, p + 32);
    // the files-cache query already looked up the first blob
    if (!cached.trusted && !(p === 0 && cached.firstInIndex !== undefined ? cached.firstInIndex : cat.hasBlob(id))) return 'changed';
    ids.push(id.toString('hex'));
  }
  node.content = ids;
  if (!cached.trusted) cat.confirmFile(path, cached);
  if (cached.xattrs && o.xattrs) {
    const xs = parseXattrs(cached.xattrs);
    if (xs) node.xattrs = xs;
    else addXattrs(node, o.fsPath);
  }
  return 'hit';
}

/** Cached xattrs, or undefined when the cache row is unreadable (they are then read from the file). */
function parseXattrs(json: string): Xattr[] | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((x) => typeof x?.name === 'string' && typeof x?.value === 'string') ? (v as Xattr[]) : undefined;
  } catch {
    return undefined;
  }
}
