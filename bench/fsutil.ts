import type { Stats } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkEntry {
  /** Path relative to the walk root, '/'-separated; never empty (the root itself is not yielded). */
  rel: string;
  abs: string;
  st: Stats;
}

/** Byte-order comparison (not locale-dependent), so walks are deterministic everywhere. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Pre-order, sorted, non-following walk of a tree. Unreadable directories are skipped. */
export async function* walk(root: string, rel = ''): AsyncGenerator<WalkEntry> {
  let names: string[];
  try {
    names = await readdir(rel ? join(root, rel) : root);
  } catch {
    return;
  }
  names.sort(byteOrder);
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = join(root, r);
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch {
      continue;
    }
    yield { rel: r, abs, st };
    if (st.isDirectory()) yield* walk(root, r);
  }
}

export interface TreeStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Sum of regular file sizes (apparent size). */
  bytes: number;
}

export function emptyStats(): TreeStats {
  return { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
}

export function addStats(a: TreeStats, b: TreeStats): TreeStats {
  return { files: a.files + b.files, dirs: a.dirs + b.dirs, symlinks: a.symlinks + b.symlinks, bytes: a.bytes + b.bytes };
}

export async function treeStats(root: string): Promise<TreeStats> {
  const s = emptyStats();
  for await (const e of walk(root)) {
    if (e.st.isFile()) {
      s.files++;
      s.bytes += e.st.size;
    } else if (e.st.isDirectory()) s.dirs++;
    else if (e.st.isSymbolicLink()) s.symlinks++;
  }
  return s;
}

export interface DiskUsage {
  /** Sum of file sizes, like `du -sb`. */
  apparentBytes: number;
  /** Allocated blocks in bytes, like `du -s -B1`. */
  diskBytes: number;
}

export async function diskUsage(root: string): Promise<DiskUsage> {
  let apparentBytes = 0;
  let diskBytes = 0;
  for await (const e of walk(root)) {
    if (e.st.isFile()) apparentBytes += e.st.size;
    diskBytes += e.st.blocks * 512;
  }
  return { apparentBytes, diskBytes };
}

export async function removeTree(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true, maxRetries: 3 });
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

export const MiB = 1024 * 1024;

export function fmtBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
