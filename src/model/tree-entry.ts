import { createHash } from 'node:crypto';
import { type Node, type NodeType, linkTargetBytes, nodeNameBytes } from './node.ts';

/**
 * The browsing view of one tree node (docs/design.md §17): what `find`, `history` and `diff` need, with raw name
 * bytes, the content ids packed into one buffer (32 bytes each) and a digest of the metadata, so two versions of a
 * path compare with two `Buffer.equals` calls. Stored as one row of the tree catalog.
 */
export interface TreeEntry {
  /** raw name bytes */
  readonly name: Buffer;
  readonly type: NodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly user: string | undefined;
  readonly group: string | undefined;
  /** files: bytes; others 0 */
  readonly size: number;
  /** nanoseconds since the epoch, decimal */
  readonly mtime: string;
  /** symlinks: raw target bytes */
  readonly linkTarget: Buffer | undefined;
  /** dirs: tree blob id (hex) */
  readonly subtree: string | undefined;
  /** files: the content blob ids, 32 raw bytes each, in order */
  readonly content: Buffer | undefined;
  /** 16-byte digest of the metadata compared by diff/history (see metaDigest) */
  readonly meta: Buffer;
}

export const ENTRY_TYPES: readonly NodeType[] = ['file', 'dir', 'symlink', 'fifo', 'chardev', 'blockdev', 'socket'];

/**
 * Metadata that makes a "metadata-only" change: type, mode, owner (ids and names), mtime, link target, device number
 * and extended attributes. Not ctime/atime/inode/dev/links: they change whenever a file is re-created or merely read,
 * which would flag nearly every path of a fresh copy.
 */
export function metaDigest(n: Node): Buffer {
  const parts = [n.type, n.mode, n.uid, n.gid, n.user ?? '', n.group ?? '', n.mtime, n.linkTargetRaw ?? n.linkTarget ?? '', n.rdev ?? '', n.xattrs ?? []];
  return createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
}

export function entryFromNode(n: Node): TreeEntry {
  return {
    name: nodeNameBytes(n),
    type: n.type,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    user: n.user,
    group: n.group,
    size: n.type === 'file' ? (n.size ?? 0) : 0,
    mtime: n.mtime,
    linkTarget: n.type === 'symlink' ? linkTargetBytes(n) : undefined,
    subtree: n.type === 'dir' ? n.subtree : undefined,
    content: n.type === 'file' ? Buffer.from((n.content ?? []).join(''), 'hex') : undefined,
    meta: metaDigest(n),
  };
}

/** Content ids of a file entry as hex strings. */
export function entryContentIds(e: TreeEntry): string[] {
  const out: string[] = [];
  const c = e.content;
  if (!c) return out;
  for (let i = 0; i + 32 <= c.length; i += 32) out.push(c.toString('hex', i, i + 32));
  return out;
}

/** Same content: equal blob lists for files, equal subtree for dirs, equal target for symlinks. */
export function sameContent(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file') return !!a.content && !!b.content && a.content.equals(b.content);
  if (a.type === 'dir') return a.subtree === b.subtree;
  if (a.type === 'symlink') return !!a.linkTarget && !!b.linkTarget && a.linkTarget.equals(b.linkTarget);
  return true;
}
