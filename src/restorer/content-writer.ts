import { closeSync, constants as C, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortedError, errnoCode, InternalError } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { BlobLocation } from '../repository/catalog.ts';
import type { Repository } from '../repository/repository.ts';
import { createMode } from './metadata.ts';
import type { BlobWork, RangeResult, RestoreWorkerInit, WriteTarget } from './restore-protocol.ts';

export interface FileTask {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly content: readonly string[];
  failed: boolean;
  readonly existing: boolean;
  /** its directory was created by this restore */
  readonly freshDir: boolean;
}

interface PackBlob {
  readonly id: string;
  readonly loc: BlobLocation;
  readonly targets: WriteTarget[];
}

const GAP = 256 * 1024;
const MAX_RANGE = 8 << 20;
const LOADS_IN_FLIGHT = 4;
const JOBS_PER_WORKER = 2;

type WriterRepo = Pick<Repository, 'catalog' | 'backend' | 'key'>;

interface Options {
  readonly sparse: boolean;
  readonly signal?: AbortSignal;
  readonly workers?: number;
  readonly onFileDone: (f: FileTask) => void;
  readonly onBytes: (n: number) => void;
  readonly onError: (f: FileTask, e: unknown) => void;
}

/**
 * Writes file contents pack by pack: the main thread reads each pack once (coalesced ranges), worker threads decrypt,
 * verify and write every blob to each place that needs it. Returns bytes written.
 */
export async function writeContents(repo: WriterRepo, files: readonly FileTask[], o: Options): Promise<number> {
  const packs = new Map<string, Map<string, PackBlob>>();
  const remaining = new Int32Array(files.length);
  const fail = (i: number, e: unknown): void => {
    const f = files[i] as FileTask;
    if (!f.failed) o.onError(f, e);
    f.failed = true;
  };
  files.forEach((task, i) => {
    const work: { hex: string; loc: BlobLocation; offset: number }[] = [];
    let offset = 0;
    for (const hex of task.content) {
      const loc = repo.catalog.blob(Buffer.from(hex, 'hex'));
      if (!loc) return fail(i, new Error(`blob ${hex} is missing from the repository index`));
      work.push({ hex, loc, offset });
      offset += loc.rawLength;
    }
    if (offset !== task.size) return fail(i, new Error(`content adds up to ${offset} bytes, the snapshot says ${task.size}`));
    try {
      if (task.existing) unlinkIfPresent(task.path);
      if (work.length === 0 || o.sparse) createSized(task.path, task.size, createMode(task.node));
    } catch (e) {
      return fail(i, e);
    }
    if (work.length === 0) return o.onFileDone(task);
    const path = task.path.toString('latin1');
    const mode = createMode(task.node);
    for (const w of work) {
      let pm = packs.get(w.loc.pack);
      if (!pm) packs.set(w.loc.pack, (pm = new Map()));
      let pb = pm.get(w.hex);
      if (!pb) pm.set(w.hex, (pb = { id: w.hex, loc: w.loc, targets: [] }));
      pb.targets.push({ path, offset: w.offset, file: i, mode });
      remaining[i]!++;
    }
  });

  const ranges: { pack: string; start: number; end: number; blobs: PackBlob[] }[] = [];
  for (const [pack, blobs] of packs) {
    const list = [...blobs.values()].sort((a, b) => a.loc.offset - b.loc.offset);
    let cur: (typeof ranges)[number] | undefined;
    for (const b of list) {
      const end = b.loc.offset + b.loc.length;
      if (cur && b.loc.offset - cur.end <= GAP && end - cur.start <= MAX_RANGE) {
        cur.end = end;
        cur.blobs.push(b);
      } else {
        cur = { pack, start: b.loc.offset, end, blobs: [b] };
        ranges.push(cur);
      }
    }
  }
  packs.clear();
  if (ranges.length === 0) return 0;

  const init: RestoreWorkerInit = { encKey: repo.key.encrypt, idKey: repo.key.id, sparse: o.sparse };
  const n = Math.max(1, Math.min(o.workers ?? availableParallelism(), 8, ranges.length));
  const workers = Array.from({ length: n }, () => new Worker(new URL('./restore-worker.ts', import.meta.url), { workerData: init, execArgv: ['--no-warnings=ExperimentalWarning'] }));
  const load = new Int32Array(n);
  const pending = new Map<number, { resolve: (r: RangeResult) => void; reject: (e: unknown) => void }>();
  let failure: unknown;
  let slotFree: (() => void) | undefined;
  const onFail = (e: unknown): void => {
    failure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    slotFree?.();
  };
  workers.forEach((w, wi) => {
    w.on('message', (r: RangeResult) => {
      load[wi]!--;
      pending.get(r.job)?.resolve(r);
      pending.delete(r.job);
      const s = slotFree;
      slotFree = undefined;
      s?.();
    });
    w.on('error', onFail);
    w.on('exit', (code) => {
      if (code !== 0) onFail(new InternalError(`restore worker exited with code ${code}`));
    });
  });

  let written = 0;
  let next = 0;
  let job = 0;
  const finished = (r: RangeResult, blobs: readonly PackBlob[]): void => {
    written += r.bytes;
    o.onBytes(r.bytes);
    for (const f of r.failed) fail(f.file, new Error(f.message));
    for (const b of blobs) {
      for (const t of b.targets) {
        if (--remaining[t.file]! === 0) {
          const f = files[t.file] as FileTask;
          if (!f.failed) o.onFileDone(f);
        }
      }
    }
  };
  const loader = async (): Promise<void> => {
    while (next < ranges.length) {
      if (o.signal?.aborted) throw new AbortedError();
      if (failure) throw failure;
      const r = ranges[next++]!;
      let data: Uint8Array;
      try {
        data = await repo.backend.load({ type: 'pack', name: r.pack }, { offset: r.start, length: r.end - r.start }, o.signal ? { signal: o.signal } : undefined);
      } catch (e) {
        if (o.signal?.aborted) throw new AbortedError();
        for (const b of r.blobs) for (const t of b.targets) fail(t.file, e);
        finished({ t: 'done', job: -1, bytes: 0, failed: [] }, r.blobs);
        continue;
      }
      let wi = 0;
      for (;;) {
        if (failure) throw failure;
        wi = load.indexOf(Math.min(...load));
        if (load[wi]! < JOBS_PER_WORKER) break;
        await new Promise<void>((res) => (slotFree = res));
      }
      load[wi]!++;
      const id = job++;
      const blobs: BlobWork[] = r.blobs.map((b) => ({ id: b.id, offset: b.loc.offset - r.start, length: b.loc.length, rawLength: b.loc.rawLength, targets: b.targets }));
      const done = new Promise<RangeResult>((resolve, reject) => pending.set(id, { resolve, reject }));
      // a view into a larger (e.g. pooled) ArrayBuffer cannot be transferred: copy it into one of its own
      const buf = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
      workers[wi]!.postMessage({ t: 'range', job: id, data: buf, blobs }, [buf.buffer as ArrayBuffer]);
      await done.then((res) => finished(res, r.blobs));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(LOADS_IN_FLIGHT, ranges.length) }, loader));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return written;
}

function unlinkIfPresent(p: Buffer): void {
  try {
    unlinkSync(p);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function createSized(p: Buffer, size: number, mode: number): void {
  const fd = openSync(p, C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, mode);
  try {
    if (size > 0) ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}
