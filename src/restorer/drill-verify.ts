import type { BigIntStats } from 'node:fs';
import { constants as C } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { type Chunker, createChunker, cutStream, deriveGearTable } from '../chunker/fastcdc.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { AbortedError, errnoCode } from '../errors.ts';
import { type Node, linkTargetBytes } from '../model/node.ts';
import { ffiAvailable, getXattr, listXattrNames } from '../platform/libc.ts';
import type { Repository } from '../repository/repository.ts';

/** Re-chunks restored files the way a backup does: the repository's chunker parameters and keyed gear table. */
export interface ContentChecker {
  readonly chunker: Chunker;
  readonly idKey: Buffer;
  readonly buf: Buffer;
}

const READ = 4 << 20;
const isRoot = process.getuid?.() === 0;

export function createContentChecker(repo: Pick<Repository, 'config' | 'key'>): ContentChecker {
  const chunker = createChunker(repo.config.chunker, deriveGearTable(repo.key.chunker));
  return { chunker, idKey: repo.key.id, buf: Buffer.allocUnsafe(READ + repo.config.chunker.max) };
}

/** What a restored entry's check found: `problems` fail it; `notes` are things that could not be checked here. */
export interface EntryCheck {
  readonly problems: string[];
  readonly notes: string[];
}

/**
 * Checks a restored file or symlink against its snapshot node without trusting the restore path: type, permission
 * bits, mtime (ns), owner (as root), symlink target, size, extended attributes, and the content — re-read, re-chunked
 * and hashed to blob ids, which must equal the node's content list. `contentOnly`: skip the metadata (for an entry
 * the restore already reported an error for, whose metadata was never applied).
 */
export async function checkRestoredEntry(path: Buffer, node: Node, c: ContentChecker, o: { signal?: AbortSignal; contentOnly?: boolean } = {}): Promise<EntryCheck> {
  const problems: string[] = [];
  const notes: string[] = [];
  let st: BigIntStats;
  try {
    st = await lstat(path, { bigint: true });
  } catch (e) {
    return { problems: [errnoCode(e) === 'ENOENT' ? 'missing from the restore' : `cannot stat the restored file: ${(e as Error).message}`], notes };
  }
  const kind = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'special file';
  if (kind !== node.type) return { problems: [`type: restored a ${kind}, the snapshot records a ${node.type}`], notes };
  const mode = Number(st.mode) & 0o7777;
  const meta = !o.contentOnly;
  if (meta && node.type !== 'symlink' && mode !== (node.mode & 0o7777)) problems.push(`mode: ${octal(mode)}, the snapshot records ${octal(node.mode & 0o7777)}`);
  if (meta && st.mtimeNs !== BigInt(node.mtime)) problems.push(`mtime: ${st.mtimeNs} ns, the snapshot records ${node.mtime} ns`);
  if (meta && isRoot && (Number(st.uid) !== node.uid || Number(st.gid) !== node.gid)) problems.push(`owner: ${st.uid}:${st.gid}, the snapshot records ${node.uid}:${node.gid}`);
  if (node.type === 'symlink') {
    const target = await readlink(path, { encoding: 'buffer' });
    if (!target.equals(linkTargetBytes(node))) problems.push(`symlink target: ${JSON.stringify(target.toString())}, the snapshot records ${JSON.stringify(linkTargetBytes(node).toString())}`);
  } else {
    if (Number(st.size) !== (node.size ?? 0)) problems.push(`size: ${st.size} bytes, the snapshot records ${node.size ?? 0}`);
    const content = await contentIds(path, c, o.signal);
    const why = compareIds(content.ids, content.lengths, node.content ?? []);
    if (why) problems.push(why);
  }
  if (meta) checkXattrs(path, node, problems, notes);
  return { problems, notes };
}

function octal(m: number): string {
  return `0${m.toString(8).padStart(3, '0')}`;
}

/** The blob ids (hex) and chunk lengths of a file's current content. */
export async function contentIds(path: Buffer, c: ContentChecker, signal?: AbortSignal): Promise<{ ids: string[]; lengths: number[] }> {
  const fh = await open(path, C.O_RDONLY | C.O_NOFOLLOW);
  const ids: string[] = [];
  const lengths: number[] = [];
  const buf = c.buf;
  try {
    let start = 0;
    let end = 0;
    let eof = false;
    for (;;) {
      for (let n = cutStream(c.chunker, buf, start, end, eof); n > 0; n = cutStream(c.chunker, buf, start, end, eof)) {
        ids.push(blobIdOf(c.idKey, buf.subarray(start, start + n)).toString('hex'));
        lengths.push(n);
        start += n;
      }
      if (eof) break;
      if (signal?.aborted) throw new AbortedError();
      if (start > 0) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      while (!eof && end < buf.length) {
        const { bytesRead } = await fh.read(buf, end, buf.length - end, null);
        if (bytesRead === 0) eof = true;
        end += bytesRead;
      }
    }
  } finally {
    await fh.close();
  }
  return { ids, lengths };
}

function compareIds(got: readonly string[], lengths: readonly number[], want: readonly string[]): string | undefined {
  let offset = 0;
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    if (got[i] !== want[i]) return `content: chunk ${i + 1} of ${want.length} (at byte ${offset}) differs from the snapshot (blob ${want[i]?.slice(0, 16)})`;
    offset += lengths[i] ?? 0;
  }
  if (got.length !== want.length) return `content: ${got.length} chunks, the snapshot records ${want.length}`;
  return undefined;
}

/** Recorded attributes must be there with equal values; extra user.* attributes are reported too. */
function checkXattrs(path: Buffer, node: Node, problems: string[], notes: string[]): void {
  const recorded = node.xattrs ?? [];
  if (!ffiAvailable()) {
    if (recorded.length) notes.push('extended attributes not checked: node:ffi is unavailable');
    return;
  }
  // without privileges only the user namespace can be restored (the restorer skips the others)
  const checkable = (name: Buffer): boolean => isRoot || name.subarray(0, 5).toString('latin1') === 'user.';
  const names = new Set<string>();
  for (const x of recorded) {
    const name = Buffer.from(x.name, 'base64');
    names.add(name.toString('latin1'));
    if (!checkable(name)) continue;
    let value: Buffer | undefined;
    try {
      value = getXattr(path, name);
    } catch (e) {
      const code = (e as { errno?: string }).errno ?? errnoCode(e);
      if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
        notes.push('extended attributes not checked: the restore target does not support them');
        return;
      }
      problems.push(`xattr ${name.toString()}: ${(e as Error).message}`);
      continue;
    }
    if (value === undefined) problems.push(`xattr ${name.toString()}: missing`);
    else if (!value.equals(Buffer.from(x.value, 'base64'))) problems.push(`xattr ${name.toString()}: value differs`);
  }
  for (const name of listXattrNames(path)) {
    if (checkable(name) && name.subarray(0, 5).toString('latin1') === 'user.' && !names.has(name.toString('latin1'))) problems.push(`xattr ${name.toString()}: not in the snapshot`);
  }
}
