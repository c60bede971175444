import { chmodSync, lchownSync } from 'node:fs';
import { errnoCode } from '../errors.ts';
import type { Node } from '../model/node.ts';
import { ffiAvailable, setTimesNs, setXattr } from '../platform/libc.ts';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const euid = process.geteuid?.() ?? -1;
const egid = process.getegid?.() ?? -1;

/** The mode a restored file is created with (umask 0): its own bits, plus owner read/write so later writes work. */
export function createMode(node: Node): number {
  return (node.mode & 0o777) | 0o600;
}

/** What the restorer knows about a file it just created: lets it skip a chown or chmod that would change nothing. */
export interface Created {
  /** the mode it was created with */
  readonly mode: number;
  /** created by this process in a directory this restore made (no setgid parent), so owner = euid:egid */
  readonly ownedByUs: boolean;
}

/**
 * Applies a node's metadata to a restored path: owner (numeric ids, when running as root), permission bits (not on
 * symlinks), extended attributes, then times, unless `timesSet` says the write worker already set them (the other
 * changes touch only the ctime, so the times stay as set). Returns warnings.
 */
export function applyMetadata(path: Buffer, node: Node, o: { owner: boolean; xattrs: boolean; created?: Created; timesSet?: boolean }): string[] {
  const warnings: string[] = [];
  const sameOwner = o.created?.ownedByUs === true && node.uid === euid && node.gid === egid;
  if (o.owner && isRoot && !sameOwner) {
    try {
      lchownSync(path, node.uid, node.gid);
    } catch (e) {
      warnings.push(`chown: ${(e as Error).message}`);
    }
  }
  if (node.type !== 'symlink' && (node.mode & 0o7777) !== o.created?.mode) {
    try {
      chmodSync(path, node.mode & 0o7777);
    } catch (e) {
      warnings.push(`chmod: ${(e as Error).message}`);
    }
  }
  if (o.xattrs && node.xattrs?.length) {
    if (!ffiAvailable()) warnings.push('extended attributes not restored: node:ffi is unavailable');
    else {
      for (const x of node.xattrs) {
        try {
          setXattr(path, Buffer.from(x.name, 'base64'), Buffer.from(x.value, 'base64'));
        } catch (e) {
          const c = (e as { errno?: string }).errno ?? errnoCode(e);
          if (c !== 'ENOTSUP' && c !== 'EPERM') warnings.push(`xattr ${Buffer.from(x.name, 'base64').toString()}: ${(e as Error).message}`);
        }
      }
    }
  }
  if (o.timesSet) return warnings; // set through the descriptor by the worker that wrote the file
  try {
    setTimesNs(path, BigInt(node.atime), BigInt(node.mtime), false);
  } catch (e) {
    warnings.push(`set times: ${(e as Error).message}`);
  }
  return warnings;
}
