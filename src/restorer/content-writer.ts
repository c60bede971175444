import { closeSync, constants as C, ftruncateSync, openSync, writeSync } from 'node:fs';
import { AbortedError } from '../errors.ts';
import type { Node } from '../model/node.ts';
import { openBlob } from '../repository/blob-codec.ts';
import type { BlobLocation } from '../repository/catalog.ts';
import type { Repository } from '../repository/repository.ts';

export interface FileTask {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly content: readonly string[];
  failed: boolean;
  readonly existing: boolean;
}

interface Target {
  readonly file: FileState;
  readonly offset: number;
}
interface PackBlobWork {
  readonly id: Buffer;
  readonly loc: BlobLocation;
  readonly targets: Target[];
}
interface FileState {
  readonly task: FileTask;
  remaining: number;
  fd: number | undefined;
  opened: boolean;
}

const MAX_OPEN = 256;
const GAP = 256 * 1024;
const PACK_CONCURRENCY = 4;

type WriterRepo = Pick<Repository, 'catalog' | 'backend' | 'sealer' | 'key'>;

/**
 * Writes file contents pack by pack: every pack is read once (in coalesced ranges), each blob is decrypted and
 * verified once and written to every place that needs it with positional writes. Returns bytes written.
 */
export async function writeContents(
  repo: WriterRepo,
  files: readonly FileTask[],
  o: { sparse: boolean; signal?: AbortSignal; onFileDone: (f: FileTask) => void; onBytes: (n: number) => void; onError: (f: FileTask, e: unknown) => void },
): Promise<number> {
  const packs = new Map<string, Map<string, PackBlobWork>>();
  const open = new Map<FileState, true>();
  let written = 0;

  const finish = (f: FileState): void => {
    try {
      if (f.fd === undefined) f.fd = openSync(f.task.path, flags(!f.opened), 0o600);
      f.opened = true;
      ftruncateSync(f.fd, f.task.size);
    } catch (e) {
      fail(f, e);
    }
    if (f.fd !== undefined) closeSync(f.fd);
    f.fd = undefined;
    open.delete(f);
    if (!f.task.failed) o.onFileDone(f.task);
  };
  const fail = (f: FileState, e: unknown): void => {
    if (!f.task.failed) o.onError(f.task, e);
    f.task.failed = true;
  };

  for (const task of files) {
    const f: FileState = { task, remaining: 0, fd: undefined, opened: false };
    const work: { id: Buffer; loc: BlobLocation; offset: number }[] = [];
    let offset = 0;
    for (const hex of task.content) {
      const id = Buffer.from(hex, 'hex');
      const loc = repo.catalog.blob(id);
      if (!loc) {
        fail(f, new Error(`blob ${hex} is missing from the repository index`));
        break;
      }
      work.push({ id, loc, offset });
      offset += loc.rawLength;
    }
    if (task.failed) continue;
    if (offset !== task.size) {
      fail(f, new Error(`content adds up to ${offset} bytes, the snapshot says ${task.size}`));
      continue;
    }
    if (work.length === 0) {
      finish(f);
      continue;
    }
    for (const w of work) {
      let pm = packs.get(w.loc.pack);
      if (!pm) packs.set(w.loc.pack, (pm = new Map()));
      const key = w.id.toString('hex');
      let pb = pm.get(key);
      if (!pb) pm.set(key, (pb = { id: w.id, loc: w.loc, targets: [] }));
      pb.targets.push({ file: f, offset: w.offset });
      f.remaining++;
    }
  }

  const zero = Buffer.alloc(1 << 20);
  const isZero = (b: Buffer): boolean => {
    for (let p = 0; p < b.length; p += zero.length) {
      const n = Math.min(zero.length, b.length - p);
      if (!b.subarray(p, p + n).equals(zero.subarray(0, n))) return false;
    }
    return true;
  };

  const writeBlob = (pb: PackBlobWork, plain: Buffer | undefined, err: unknown): void => {
    const skip = plain !== undefined && o.sparse && isZero(plain);
    for (const t of pb.targets) {
      const f = t.file;
      if (!f.task.failed) {
        if (plain === undefined) fail(f, err);
        else {
          try {
            if (f.fd === undefined) {
              if (open.size >= MAX_OPEN) closeOldest(open);
              f.fd = openSync(f.task.path, flags(!f.opened), 0o600);
              if (!f.opened && o.sparse) ftruncateSync(f.fd, f.task.size);
              f.opened = true;
              open.set(f, true);
            }
            if (!skip) {
              let p = 0;
              while (p < plain.length) p += writeSync(f.fd, plain, p, plain.length - p, t.offset + p);
              written += plain.length;
            }
            o.onBytes(plain.length);
          } catch (e) {
            fail(f, e);
          }
        }
      }
      if (--f.remaining === 0) finish(f);
    }
  };

  const queue = [...packs.entries()];
  packs.clear();
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      if (o.signal?.aborted) throw new AbortedError();
      const [pack, blobs] = item;
      const list = [...blobs.values()].sort((a, b) => a.loc.offset - b.loc.offset);
      let i = 0;
      while (i < list.length) {
        let j = i + 1;
        while (j < list.length && (list[j] as PackBlobWork).loc.offset - endOf(list[j - 1] as PackBlobWork) <= GAP) j++;
        const first = list[i] as PackBlobWork;
        const start = first.loc.offset;
        const end = endOf(list[j - 1] as PackBlobWork);
        let data: Uint8Array | undefined;
        let loadErr: unknown;
        try {
          data = await repo.backend.load({ type: 'pack', name: pack }, { offset: start, length: end - start }, o.signal ? { signal: o.signal } : undefined);
        } catch (e) {
          if (o.signal?.aborted) throw new AbortedError();
          loadErr = e;
        }
        for (let k = i; k < j; k++) {
          const pb = list[k] as PackBlobWork;
          if (!data) {
            writeBlob(pb, undefined, loadErr);
            continue;
          }
          let plain: Buffer | undefined;
          let err: unknown;
          try {
            plain = openBlob(data.subarray(pb.loc.offset - start, pb.loc.offset - start + pb.loc.length), repo.sealer, repo.key.id, pb.id, pb.loc.rawLength);
          } catch (e) {
            err = e;
          }
          writeBlob(pb, plain, err);
        }
        i = j;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: PACK_CONCURRENCY }, worker));
  } finally {
    for (const f of open.keys()) if (f.fd !== undefined) closeSync(f.fd);
  }
  return written;
}

function endOf(b: PackBlobWork): number {
  return b.loc.offset + b.loc.length;
}

function flags(create: boolean): number {
  return C.O_WRONLY | C.O_NOFOLLOW | (create ? C.O_CREAT | C.O_TRUNC : 0);
}

function closeOldest(open: Map<FileState, true>): void {
  const oldest = open.keys().next().value;
  if (!oldest) return;
  if (oldest.fd !== undefined) closeSync(oldest.fd);
  oldest.fd = undefined;
  open.delete(oldest);
}
