import { type BigIntStats, readFileSync, readlinkSync } from 'node:fs';
import { encodeName, type Node, type NodeType, type Xattr } from '../model/node.ts';
import { ffiAvailable, readXattrs, readXattrsFd } from '../platform/libc.ts';

const S_IFMT = 0o170000;
const TYPES: Record<number, NodeType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o020000: 'chardev',
  0o060000: 'blockdev',
  0o140000: 'socket',
};

export function nodeType(st: BigIntStats): NodeType {
  return TYPES[Number(st.mode) & S_IFMT] ?? 'file';
}

function idNames(file: string): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      const id = Number(f[2]);
      if (f[0] && Number.isInteger(id) && !m.has(id)) m.set(id, f[0]);
    }
  } catch {
    // no such database: names stay empty
  }
  return m;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

/** Builds a tree node from lstat data. Content/subtree are filled in by the caller. */
export function nodeFromStat(name: Buffer, path: Buffer, st: BigIntStats, o: { xattrs: boolean }): Node {
  users ??= idNames('/etc/passwd');
  groups ??= idNames('/etc/group');
  const type = nodeType(st);
  const n = encodeName(name);
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const node: Node = {
    name: n.name,
    type,
    mode: Number(st.mode) & 0o7777,
    uid,
    gid,
    mtime: st.mtimeNs.toString(),
    atime: st.atimeNs.toString(),
    ctime: st.ctimeNs.toString(),
  };
  if (n.raw !== undefined) node.nameRaw = n.raw;
  const user = users.get(uid);
  if (user) node.user = user;
  const group = groups.get(gid);
  if (group) node.group = group;
  if (type === 'file') {
    node.size = Number(st.size);
    node.inode = st.ino.toString();
    node.dev = st.dev.toString();
    node.links = Number(st.nlink);
  } else if (type === 'dir') {
    node.inode = st.ino.toString();
    node.dev = st.dev.toString();
  } else if (type === 'symlink') {
    const t = encodeName(readlinkSync(path, { encoding: 'buffer' }));
    node.linkTarget = t.name;
    if (t.raw !== undefined) node.linkTargetRaw = t.raw;
    node.inode = st.ino.toString();
    node.dev = st.dev.toString();
    node.links = Number(st.nlink);
  } else {
    node.rdev = st.rdev.toString();
    node.inode = st.ino.toString();
    node.dev = st.dev.toString();
    node.links = Number(st.nlink);
  }
  if (o.xattrs) addXattrs(node, path);
  return node;
}

/** Reads the entry's extended attributes into the node (none when unsupported or unreadable). */
export function addXattrs(node: Node, path: Buffer): void {
  if (!ffiAvailable()) return;
  const xs = xattrsOf(() => readXattrs(path));
  if (xs) node.xattrs = xs;
}

/** The extended attributes of the file open as `fd` (file workers read them there: no path lookup); undefined when none. */
export function xattrsOfFd(fd: number, path: Buffer): Xattr[] | undefined {
  return ffiAvailable() ? xattrsOf(() => readXattrsFd(fd, path)) : undefined;
}

function xattrsOf(read: () => Array<{ name: Buffer; value: Buffer }>): Xattr[] | undefined {
  try {
    const xs = read();
    return xs.length > 0 ? xs.map((x): Xattr => ({ name: x.name.toString('base64'), value: x.value.toString('base64') })) : undefined;
  } catch {
    // unsupported or unreadable attributes: the content is still saved
    return undefined;
  }
}
