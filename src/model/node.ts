/**
 * Tree and node model (docs/design.md "Trees"). A tree is one directory: its entries sorted by raw name bytes.
 * Names and link targets are stored as UTF-8 strings when the bytes are valid UTF-8, otherwise as base64 in
 * `nameRaw` / `linkTargetRaw` (then `name` holds a lossy rendering for display only).
 * Times are nanoseconds since the epoch as decimal strings (JSON numbers cannot hold them exactly).
 */
export const NODE_TYPES = ['file', 'dir', 'symlink', 'fifo', 'chardev', 'blockdev', 'socket'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface Xattr {
  /** base64 of the raw attribute name */
  readonly name: string;
  /** base64 */
  readonly value: string;
}

export interface Node {
  name: string;
  nameRaw?: string;
  type: NodeType;
  /** permission bits incl. setuid/setgid/sticky (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  mtime: string;
  atime: string;
  ctime: string;
  size?: number;
  inode?: string;
  dev?: string;
  links?: number;
  rdev?: string;
  content?: string[];
  subtree?: string;
  linkTarget?: string;
  linkTargetRaw?: string;
  xattrs?: Xattr[];
}

export interface Tree {
  nodes: Node[];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Splits raw bytes into the stored string form. */
export function encodeName(raw: Buffer): { name: string; raw?: string } {
  try {
    const s = decoder.decode(raw);
    if (!s.includes('\uFFFD')) return { name: s };
  } catch {
    // not UTF-8: fall through
  }
  return { name: raw.toString('utf8'), raw: raw.toString('base64') };
}

export function nodeNameBytes(n: Pick<Node, 'name' | 'nameRaw'>): Buffer {
  return n.nameRaw !== undefined ? Buffer.from(n.nameRaw, 'base64') : Buffer.from(n.name, 'utf8');
}

export function linkTargetBytes(n: Node): Buffer {
  return n.linkTargetRaw !== undefined ? Buffer.from(n.linkTargetRaw, 'base64') : Buffer.from(n.linkTarget ?? '', 'utf8');
}
