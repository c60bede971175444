import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AbortedError, InternalError, PyBackupError } from '../errors.ts';
import type { MasterKey } from '../crypto/master-key.ts';
import type { PackInfo } from './check-index.ts';
import type { PackJob, PackVerdict, ReadWorkerInit } from './read-protocol.ts';
import type { CheckRepo } from './structure.ts';

/** packs in flight per worker: the one it verifies and the next */
const JOBS_PER_WORKER = 2;

export interface ReadResult {
  readonly pack: PackInfo;
  /** set when the pack was read; otherwise `loadError` says why it could not be */
  readonly verdict?: PackVerdict;
  readonly loadError?: unknown;
}

export interface ReadOptions {
  readonly signal?: AbortSignal;
  /** whether to send back tree plaintexts for this pack */
  readonly wantTrees: () => boolean;
  readonly onResult: (r: ReadResult) => void;
}

/**
 * Verifies whole packs on worker threads (one per core by default). Each pack is loaded once, in one piece, and its
 * buffer is handed over to a worker. A worker verifies one pack at a time and has at most one more waiting (so it
 * never idles while the main thread is busy, e.g. walking trees): at most 2 packs per worker are in memory. Start the
 * pool early (the workers load their modules meanwhile), run it once, then close it.
 */
export class ReadPool {
  readonly #workers: Worker[];
  readonly #queued: Int32Array;
  readonly #pending = new Map<number, { resolve: (v: PackVerdict) => void; reject: (e: unknown) => void }>();
  #failure: unknown;
  #job = 0;

  constructor(key: Pick<MasterKey, 'encrypt' | 'id'>, workers = availableParallelism()) {
    const n = Math.max(1, Math.min(workers, 16));
    const init: ReadWorkerInit = { encKey: key.encrypt, idKey: key.id };
    this.#queued = new Int32Array(n);
    this.#workers = Array.from({ length: n }, (_, wi) => {
      const w = new Worker(new URL('./read-worker.ts', import.meta.url), { workerData: init, execArgv: ['--no-warnings=ExperimentalWarning'] });
      w.on('message', (v: PackVerdict) => {
        this.#queued[wi]!--;
        this.#pending.get(v.job)?.resolve(v);
        this.#pending.delete(v.job);
      });
      w.on('error', (e) => this.#fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.#fail(new InternalError(`read-data worker exited with code ${code}`));
      });
      return w;
    });
  }

  async run(repo: Pick<CheckRepo, 'backend'>, packs: readonly PackInfo[], o: ReadOptions): Promise<void> {
    const opts = o.signal ? { signal: o.signal } : undefined;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < packs.length) {
        if (o.signal?.aborted) throw new AbortedError();
        if (this.#failure) throw this.#failure;
        const pack = packs[next++] as PackInfo;
        // a local repository's pack: the worker reads it itself (one reused buffer; nothing to transfer)
        const path = repo.backend.localPath?.({ type: 'pack', name: pack.id });
        if (path !== undefined && pack.size !== undefined) {
          const v = await this.#verify(pack, { file: { path, size: pack.size } }, o.wantTrees());
          if (v.unread === undefined) {
            o.onResult({ pack, verdict: v });
            continue;
          }
          // could not read it there: the backend's load says why (or retries)
        }
        let data: Uint8Array;
        try {
          data = await repo.backend.load({ type: 'pack', name: pack.id }, { offset: 0, length: pack.size ?? 0 }, opts);
        } catch (e) {
          if (o.signal?.aborted || (e instanceof PyBackupError && e.code === 'ABORTED')) throw new AbortedError();
          o.onResult({ pack, loadError: e });
          continue;
        }
        // a view into a larger (e.g. pooled) ArrayBuffer cannot be transferred: copy it into one of its own
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : new Uint8Array(data);
        o.onResult({ pack, verdict: await this.#verify(pack, { data: own }, o.wantTrees()) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#workers.length * JOBS_PER_WORKER, packs.length) }, lane));
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #verify(pack: PackInfo, src: { data: Uint8Array } | { file: { path: string; size: number } }, wantTrees: boolean): Promise<PackVerdict> {
    const wi = this.#queued.indexOf(Math.min(...this.#queued));
    this.#queued[wi]!++;
    const job = this.#job++;
    const msg = packJob(job, pack, src, wantTrees);
    const verdict = new Promise<PackVerdict>((resolve, reject) => this.#pending.set(job, { resolve, reject }));
    this.#workers[wi]!.postMessage(msg, 'data' in src ? [src.data.buffer as ArrayBuffer] : []);
    return verdict;
  }

  #fail(e: unknown): void {
    this.#failure ??= e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }
}

function packJob(job: number, pack: PackInfo, src: { data: Uint8Array } | { file: { path: string; size: number } }, wantTrees: boolean): PackJob {
  const k = pack.blobs.length;
  const ids = new Uint8Array(k * 32);
  const types = new Uint8Array(k);
  const offsets = new Uint32Array(k);
  const lengths = new Uint32Array(k);
  const rawLengths = new Uint32Array(k);
  pack.blobs.forEach((b, i) => {
    ids.set(b.id, i * 32);
    types[i] = b.type === 'tree' ? 1 : 0;
    offsets[i] = b.offset;
    lengths[i] = b.length;
    rawLengths[i] = b.rawLength;
  });
  return { t: 'pack', job, id: pack.id, ...src, ids, types, offsets, lengths, rawLengths, wantTrees: wantTrees && types.includes(1) };
}
