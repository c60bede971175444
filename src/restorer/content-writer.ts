import { closeSync, constants as C, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortedError, errnoCode, InternalError } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { BlobLocation } from '../repository/catalog.ts';
import type { Repository } from '../repository/repository.ts';
import { createMode } from './metadata.ts';
import type { BlobWork, RangeResult, RestoreWorkerInit, ToRestoreWorker, WriteTarget } from './restore-protocol.ts';

export interface FileTask {
  readonly path: Buffer;
  readonly node: Node;
  readonly size: number;
  readonly content: readonly string[];
  failed: boolean;
  readonly existing: boolean;
  /** its directory was created by this restore */
  readonly freshDir: boolean;
  /** a write worker already set its times (a file of one blob) */
  timesSet?: boolean;
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
 * Writes file contents pack by pack: the main thread reads each pack range once (coalesced), worker threads decrypt,
 * verify and write every blob to each place that needs it. Files come in batches while the restore is still being
 * planned, so writing starts early; blobs are grouped by pack within a batch (batches follow the snapshot's order,
 * which is the order the backup packed them in, so little is read twice). The workers live until close().
 */
export class ContentWriter {
  readonly #repo: WriterRepo;
  readonly #o: Options;
  #workers: Worker[] = [];
  #load = new Int32Array(0);
  readonly #pending = new Map<number, { resolve: (r: RangeResult) => void; reject: (e: unknown) => void }>();
  #slotWaiters: (() => void)[] = [];
  #failure: unknown;
  #job = 0;
  written = 0;

  constructor(repo: WriterRepo, o: Options) {
    this.#repo = repo;
    this.#o = o;
  }

  #start(): void {
    const init: RestoreWorkerInit = { encKey: this.#repo.key.encrypt, idKey: this.#repo.key.id, sparse: this.#o.sparse };
    const n = Math.max(1, Math.min(this.#o.workers ?? availableParallelism(), 8));
    this.#workers = Array.from({ length: n }, () => new Worker(new URL('./restore-worker.ts', import.meta.url), { workerData: init, execArgv: ['--no-warnings=ExperimentalWarning'] }));
    this.#load = new Int32Array(n);
    this.#workers.forEach((w, wi) => {
      w.on('message', (r: RangeResult) => {
        this.#load[wi]!--;
        this.#pending.get(r.job)?.resolve(r);
        this.#pending.delete(r.job);
        this.#slotWaiters.shift()?.();
      });
      w.on('error', (e) => this.#fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.#fail(new InternalError(`restore worker exited with code ${code}`));
      });
    });
  }

  #fail(e: unknown): void {
    this.#failure ??= e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    for (const w of this.#slotWaiters.splice(0)) w();
  }

  /** Writes one batch of files; resolves when every one of them is written (or failed). */
  async write(files: readonly FileTask[]): Promise<void> {
    const o = this.#o;
    const remaining = new Int32Array(files.length);
    const fail = (i: number, e: unknown): void => {
      const f = files[i] as FileTask;
      if (!f.failed) o.onError(f, e);
      f.failed = true;
    };
    const ranges = planRanges(this.#repo, files, remaining, fail, o);
    if (ranges.length === 0) return;
    if (this.#workers.length === 0) this.#start();
    const finished = (r: RangeResult, blobs: readonly PackBlob[]): void => {
      this.written += r.bytes;
      o.onBytes(r.bytes);
      for (const f of r.failed) fail(f.file, new Error(f.message));
      for (const i of r.timed ?? []) (files[i] as FileTask).timesSet = true;
      for (const b of blobs) {
        for (const t of b.targets) {
          if (--remaining[t.file]! === 0) {
            const f = files[t.file] as FileTask;
            if (!f.failed) o.onFileDone(f);
          }
        }
      }
    };
    let next = 0;
    const loader = async (): Promise<void> => {
      while (next < ranges.length) {
        if (o.signal?.aborted) throw new AbortedError();
        if (this.#failure) throw this.#failure;
        const r = ranges[next++]!;
        // a local repository's pack: the worker reads the range itself (no buffer per range, nothing to transfer)
        const path = this.#repo.backend.localPath?.({ type: 'pack', name: r.pack });
        if (path !== undefined) {
          const res = await this.#run(r, { file: { path, offset: r.start, length: r.end - r.start } });
          if (res.unread === undefined) {
            finished(res, r.blobs);
            continue;
          }
          // could not read it there (vanished, short, unreadable): the backend's load says why, or retries
        }
        let data: Uint8Array;
        try {
          data = await this.#repo.backend.load({ type: 'pack', name: r.pack }, { offset: r.start, length: r.end - r.start }, o.signal ? { signal: o.signal } : undefined);
        } catch (e) {
          if (o.signal?.aborted) throw new AbortedError();
          for (const b of r.blobs) for (const t of b.targets) fail(t.file, e);
          finished({ t: 'done', job: -1, bytes: 0, failed: [] }, r.blobs);
          continue;
        }
        // a view into a larger (e.g. pooled) ArrayBuffer cannot be transferred: copy it into one of its own
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
        finished(await this.#run(r, { data: own }), r.blobs);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOADS_IN_FLIGHT, ranges.length) }, loader));
  }

  /** Sends a range (its bytes, or where to read them) to the least busy worker (at most JOBS_PER_WORKER each) and waits for its result. */
  async #run(r: Range, src: { data: Uint8Array } | { file: { path: string; offset: number; length: number } }): Promise<RangeResult> {
    let wi = 0;
    for (;;) {
      if (this.#failure) throw this.#failure;
      wi = this.#load.indexOf(Math.min(...this.#load));
      if (this.#load[wi]! < JOBS_PER_WORKER) break;
      await new Promise<void>((res) => this.#slotWaiters.push(res));
    }
    this.#load[wi]!++;
    const id = this.#job++;
    const blobs: BlobWork[] = r.blobs.map((b) => ({ id: b.id, offset: b.loc.offset - r.start, length: b.loc.length, rawLength: b.loc.rawLength, targets: b.targets }));
    const done = new Promise<RangeResult>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    if ('data' in src) this.#workers[wi]!.postMessage({ t: 'range', job: id, data: src.data, blobs } satisfies ToRestoreWorker, [src.data.buffer as ArrayBuffer]);
    else this.#workers[wi]!.postMessage({ t: 'range', job: id, file: src.file, blobs } satisfies ToRestoreWorker);
    return done;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers = [];
  }
}

interface Range {
  readonly pack: string;
  readonly start: number;
  end: number;
  readonly blobs: PackBlob[];
}

/** Creates empty/sparse files, groups the batch's blobs by pack and coalesces them into read ranges. */
function planRanges(repo: WriterRepo, files: readonly FileTask[], remaining: Int32Array, fail: (i: number, e: unknown) => void, o: Options): Range[] {
  const packs = new Map<string, Map<string, PackBlob>>();
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
    const times = work.length === 1 ? ([task.node.atime, task.node.mtime] as const) : undefined;
    for (const w of work) {
      let pm = packs.get(w.loc.pack);
      if (!pm) packs.set(w.loc.pack, (pm = new Map()));
      let pb = pm.get(w.hex);
      if (!pb) pm.set(w.hex, (pb = { id: w.hex, loc: w.loc, targets: [] }));
      pb.targets.push(times ? { path, offset: w.offset, file: i, mode, times } : { path, offset: w.offset, file: i, mode });
      remaining[i]!++;
    }
  });
  const ranges: Range[] = [];
  for (const [pack, blobs] of packs) {
    const list = [...blobs.values()].sort((a, b) => a.loc.offset - b.loc.offset);
    let cur: Range | undefined;
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
  return ranges;
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
