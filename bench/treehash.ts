import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { walk } from './fsutil.ts';

/** A content digest of a tree: per entry its type, and size + SHA-256 for files or the target for symlinks. Metadata is ignored. */
export interface TreeDigest {
  entries: Map<string, string>;
  /** SHA-256 over all entries in sorted order. */
  digest: string;
  files: number;
  bytes: number;
}

async function hashFile(path: string, size: number): Promise<string> {
  if (size <= 8 * 1024 * 1024) return createHash('sha256').update(await readFile(path)).digest('hex');
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Reads every file of the tree (which also warms the page cache). */
export async function digestTree(root: string): Promise<TreeDigest> {
  const entries = new Map<string, string>();
  const all = createHash('sha256');
  let files = 0;
  let bytes = 0;
  for await (const e of walk(root)) {
    let desc: string;
    if (e.st.isFile()) {
      desc = `f ${e.st.size} ${await hashFile(e.abs, e.st.size)}`;
      files++;
      bytes += e.st.size;
    } else if (e.st.isDirectory()) desc = 'd';
    else if (e.st.isSymbolicLink()) desc = `l ${await readlink(e.abs)}`;
    else desc = 'other';
    entries.set(e.rel, desc);
    all.update(`${e.rel}\0${desc}\n`);
  }
  return { entries, digest: all.digest('hex'), files, bytes };
}

function short(desc: string): string {
  const m = /^f (\d+) ([0-9a-f]{64})$/.exec(desc);
  return m ? `${m[1]} bytes, sha256 ${m[2]?.slice(0, 12)}…` : desc.slice(0, 60);
}

/** Human-readable differences (at most `max`), empty when the digests are equal. */
export function diffDigests(expected: TreeDigest, actual: TreeDigest, max = 8): string[] {
  if (expected.digest === actual.digest) return [];
  const out: string[] = [];
  let missing = 0;
  let extra = 0;
  let differ = 0;
  for (const [rel, desc] of expected.entries) {
    const got = actual.entries.get(rel);
    if (got === undefined) {
      missing++;
      if (out.length < max) out.push(`missing: ${rel}`);
    } else if (got !== desc) {
      differ++;
      if (out.length < max) out.push(`differs: ${rel} (expected ${short(desc)}; got ${short(got)})`);
    }
  }
  for (const rel of actual.entries.keys()) {
    if (!expected.entries.has(rel)) {
      extra++;
      if (out.length < max) out.push(`unexpected: ${rel}`);
    }
  }
  out.unshift(`${missing} missing, ${extra} unexpected, ${differ} different entries`);
  return out;
}
