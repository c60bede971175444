/**
 * Byte-exact tree comparison for the end-to-end tests: walks two trees with Buffer paths (names need not be UTF-8)
 * and compares type, mode, owner, size, nanosecond mtime, content hash, link target, xattrs, rdev and hardlink groups.
 */
import assert from 'node:assert/strict';
import { type BigIntStats, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readXattrs } from '../../src/platform/libc.ts';
import { createHash } from 'node:crypto';

export function sha256File(path: string | Buffer): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface EntryInfo {
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly rdev: bigint;
  readonly ino: bigint;
  readonly nlink: bigint;
  readonly hash?: string;
  readonly link?: string;
  readonly xattrs: string;
  readonly blocks: bigint;
}

function typeOf(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isSocket()) return 'socket';
  return 'unknown';
}

/** Reads every entry below (and including) `root`, keyed by relative path ('' is the root), raw bytes as latin1. */
export function scanTree(root: string | Buffer): Map<string, EntryInfo> {
  const out = new Map<string, EntryInfo>();
  const rootBuf = Buffer.isBuffer(root) ? root : Buffer.from(root);
  const walk = (abs: Buffer, rel: string): void => {
    const st = lstatSync(abs, { bigint: true });
    const type = typeOf(st);
    const xs = type === 'symlink' ? [] : readXattrs(abs);
    const info: EntryInfo = {
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'file' || type === 'symlink' ? st.size : 0n,
      mtimeNs: st.mtimeNs,
      rdev: type === 'chardev' || type === 'blockdev' ? st.rdev : 0n,
      ino: st.ino,
      nlink: st.nlink,
      blocks: st.blocks,
      xattrs: xs.map((x) => `${x.name.toString('latin1')}=${x.value.toString('hex')}`).join(';'),
      ...(type === 'file' ? { hash: sha256File(abs) } : {}),
      ...(type === 'symlink' ? { link: readlinkSync(abs, { encoding: 'buffer' }).toString('latin1') } : {}),
    };
    out.set(rel, info);
    if (type === 'dir') {
      for (const n of readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) {
        walk(Buffer.concat([abs, Buffer.from('/'), n]), rel === '' ? n.toString('latin1') : `${rel}/${n.toString('latin1')}`);
      }
    }
  };
  walk(rootBuf, '');
  return out;
}

/** Groups of paths inside the tree sharing an inode (links from outside the tree do not count), canonical order. */
function hardlinkGroups(t: Map<string, EntryInfo>): string[][] {
  const by = new Map<bigint, string[]>();
  for (const [p, e] of t) {
    if (e.type !== 'file' || e.nlink < 2n) continue;
    const g = by.get(e.ino) ?? [];
    g.push(p);
    by.set(e.ino, g);
  }
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

const show = (p: string): string => JSON.stringify(Buffer.from(p, 'latin1').toString('utf8'));

/**
 * Differences between two trees (empty = identical): type, mode (not for symlinks), uid, gid, size, mtime to the
 * nanosecond, content hash, link target, xattrs, rdev, and hardlink grouping.
 */
export function compareTrees(expected: string | Buffer, actual: string | Buffer, o: { skipRootTimes?: boolean } = {}): string[] {
  const a = scanTree(expected);
  const b = scanTree(actual);
  const diffs: string[] = [];
  for (const [p, e] of a) {
    const g = b.get(p);
    if (!g) {
      diffs.push(`missing: ${show(p)}`);
      continue;
    }
    const fields: (keyof EntryInfo)[] = ['type', 'uid', 'gid', 'size', 'mtimeNs', 'rdev', 'hash', 'link', 'xattrs'];
    if (e.type !== 'symlink') fields.push('mode');
    for (const f of fields) {
      if (f === 'mtimeNs' && p === '' && o.skipRootTimes) continue;
      if (e[f] !== g[f]) diffs.push(`${show(p)}: ${f} expected ${String(e[f])} got ${String(g[f])}`);
    }
  }
  for (const p of b.keys()) if (!a.has(p)) diffs.push(`extra: ${show(p)}`);
  const ga = JSON.stringify(hardlinkGroups(a));
  const gb = JSON.stringify(hardlinkGroups(b));
  if (ga !== gb) diffs.push(`hardlink groups differ: expected ${ga} got ${gb}`);
  return diffs;
}

export function assertSameTree(expected: string | Buffer, actual: string | Buffer, o: { skipRootTimes?: boolean } = {}): void {
  const d = compareTrees(expected, actual, o);
  assert.deepEqual(d, [], `trees differ:\n${d.slice(0, 50).join('\n')}`);
}

/** Recursively lists every path below `dir` (for "nothing written outside" checks). */
export function allPaths(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: Buffer): void => {
    for (const n of readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), n]);
      out.push(p.toString('latin1'));
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(Buffer.from(dir));
  return out.sort();
}
