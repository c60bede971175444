import { throwIfAborted } from '../errors.ts';
import { type Node, linkTargetBytes, nodeNameBytes } from '../model/node.ts';
import type { ContentReader } from './content.ts';
import { TAR_END, type TarType, tarHeader, tarPadding } from './tar.ts';
import type { TreeStore } from './tree-store.ts';
import { type ByteSink, ZipWriter } from './zip.ts';

export type ArchiveFormat = 'tar' | 'zip';

/** What to dump: a directory tree, named `name` in the archive (no name = its entries at the archive's top). */
export interface DumpRoot {
  readonly treeId: string;
  /** the directory's own node (its metadata becomes the top entry) */
  readonly node?: Node | undefined;
  readonly name?: Buffer | undefined;
}

export interface DumpOptions {
  readonly signal?: AbortSignal | undefined;
  /** told about nodes the format cannot hold (sockets; devices and FIFOs in zip) */
  readonly onSkip?: ((path: Buffer, why: string) => void) | undefined;
}

export interface DumpStats {
  files: number;
  dirs: number;
  others: number;
  bytes: number;
}

const S_IF: Partial<Record<Node['type'], number>> = { file: 0o100000, dir: 0o040000, symlink: 0o120000 };

/** A file's content to the sink, blob by blob. */
export async function dumpFile(reader: ContentReader, node: Node, sink: ByteSink, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const b of reader.stream(node.content ?? [], signal)) {
    n += b.length;
    await sink(b);
  }
  return n;
}

/** A directory as a tar (pax) or zip stream. Walks depth first, one tree per level in memory. */
export async function dumpArchive(format: ArchiveFormat, store: TreeStore, reader: ContentReader, root: DumpRoot, sink: ByteSink, o: DumpOptions = {}): Promise<DumpStats> {
  const stats: DumpStats = { files: 0, dirs: 0, others: 0, bytes: 0 };
  const zip = format === 'zip' ? new ZipWriter(sink) : undefined;
  const hardlinks = new Map<string, Buffer>();

  const emit = async (node: Node, path: Buffer): Promise<void> => {
    throwIfAborted(o.signal);
    const mtimeNs = BigInt(node.mtime);
    if (node.type === 'socket' || (zip && node.type !== 'file' && node.type !== 'dir' && node.type !== 'symlink')) {
      o.onSkip?.(path, `${node.type}s cannot be stored in a ${format} archive`);
      return;
    }
    if (node.type === 'dir') stats.dirs++;
    else if (node.type === 'file') stats.files++;
    else stats.others++;
    const size = node.type === 'file' ? reader.layout(node.content ?? []).size : 0;
    if (zip) {
      const name = node.type === 'dir' ? Buffer.concat([path, Buffer.from('/')]) : path;
      const meta = { name, mode: (S_IF[node.type] ?? 0) | (node.mode & 0o7777), mtimeNs, uid: node.uid, gid: node.gid };
      if (node.type === 'file') await zip.add(meta, size, reader.stream(node.content ?? [], o.signal));
      else if (node.type === 'symlink') {
        const t = linkTargetBytes(node);
        await zip.add(meta, t.length, t, { compress: 'store' });
      } else await zip.add(meta, 0, Buffer.alloc(0), { compress: 'store' });
      stats.bytes += size;
      return;
    }
    const base = { path, mode: node.mode, uid: node.uid, gid: node.gid, uname: node.user, gname: node.group, mtimeNs };
    if (node.type === 'file') {
      const key = (node.links ?? 1) > 1 && node.inode !== undefined ? `${node.dev ?? ''}:${node.inode}` : undefined;
      const first = key === undefined ? undefined : hardlinks.get(key);
      if (first) {
        await sink(tarHeader({ ...base, type: 'hardlink', size: 0, linkTarget: first }));
        return;
      }
      if (key !== undefined) hardlinks.set(key, path);
      await sink(tarHeader({ ...base, type: 'file', size }));
      const n = await dumpFile(reader, node, sink, o.signal);
      stats.bytes += n;
      await sink(tarPadding(n));
      return;
    }
    const dev = node.rdev === undefined ? undefined : splitDev(BigInt(node.rdev));
    await sink(tarHeader({ ...base, type: node.type as TarType, size: 0, linkTarget: node.type === 'symlink' ? linkTargetBytes(node) : undefined, devMajor: dev?.major, devMinor: dev?.minor }));
  };

  const walk = async (treeId: string, prefix: Buffer | undefined): Promise<void> => {
    for (const node of (await store.tree(treeId, o.signal)).nodes) {
      const name = nodeNameBytes(node);
      const path = prefix ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
      await emit(node, path);
      if (node.type === 'dir' && node.subtree) await walk(node.subtree, path);
    }
  };

  if (root.node && root.name) await emit(root.node, root.name);
  await walk(root.treeId, root.name);
  if (zip) await zip.finish();
  else await sink(TAR_END);
  return stats;
}

/** glibc's dev_t encoding -> major/minor. */
export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { major, minor };
}
