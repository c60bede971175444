import { Worker } from 'node:worker_threads';
import { InternalError } from '../errors.ts';
import type { FileJob, FileResult, FromWorker, PackMsg, ToWorker, WorkerInit } from './worker-protocol.ts';

interface Slot {
  readonly worker: Worker;
  load: number;
  flushed?: (() => void) | undefined;
}

/**
 * Runs file jobs on worker threads. Each job is a batch of files for one worker; `onPack` stores a pack a worker
 * finished (the worker waits for the store before building more than two packs ahead: backpressure).
 */
export class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<number, { resolve: (r: readonly FileResult[]) => void; reject: (e: unknown) => void; slot: Slot; bytes: number }>();
  #nextJob = 1;
  #failure: Error | undefined;
  readonly #onPack: (p: PackMsg) => Promise<void>;
  readonly #onProgress: (bytes: number) => void;

  readonly #n: number;
  readonly #init: WorkerInit;

  /** Workers start with the first job: a backup with nothing new to read never pays for them. */
  constructor(n: number, init: WorkerInit, onPack: (p: PackMsg) => Promise<void>, onProgress: (bytes: number) => void) {
    this.#onPack = onPack;
    this.#onProgress = onProgress;
    this.#n = n;
    this.#init = init;
  }

  #start(): void {
    const init = this.#init;
    for (let i = 0; i < this.#n; i++) {
      const worker = new Worker(new URL('./file-worker.ts', import.meta.url), { workerData: init, execArgv: ['--no-warnings=ExperimentalWarning'] });
      const slot: Slot = { worker, load: 0 };
      worker.on('message', (m: FromWorker) => this.#onMessage(slot, m));
      worker.on('error', (e: unknown) => this.#fail(e as Error));
      worker.on('exit', (code) => {
        if (code !== 0) this.#fail(new InternalError(`file worker exited with code ${code}`));
      });
      this.#slots.push(slot);
    }
  }

  /** Bytes of file content queued or being read. */
  get load(): number {
    let s = 0;
    for (const x of this.#slots) s += x.load;
    return s;
  }

  run(files: readonly FileJob[]): Promise<readonly FileResult[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#slots.length === 0) this.#start();
    let slot = this.#slots[0] as Slot;
    for (const s of this.#slots) if (s.load < slot.load) slot = s;
    const job = this.#nextJob++;
    const bytes = files.reduce((a, f) => a + f.size, 0) + files.length * 4096;
    slot.load += bytes;
    return new Promise((resolve, reject) => {
      this.#jobs.set(job, { resolve, reject, slot, bytes });
      this.#post(slot, { t: 'files', job, files });
    });
  }

  /** Every worker ships its partial pack; resolves once all packs were handed to onPack and stored. */
  async flush(): Promise<void> {
    await Promise.all(
      this.#slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.flushed = resolve;
            this.#post(s, { t: 'flush' });
          }),
      ),
    );
    if (this.#failure) throw this.#failure;
  }

  readonly #packOwner = new Map<string, { slot: Slot; seq: number }>();

  /** An index file covering these packs was written: their workers may drop those blobs from their session sets. */
  indexed(packs: readonly string[]): void {
    const bySlot = new Map<Slot, number[]>();
    for (const id of packs) {
      const o = this.#packOwner.get(id);
      if (!o) continue;
      this.#packOwner.delete(id);
      let seqs = bySlot.get(o.slot);
      if (!seqs) bySlot.set(o.slot, (seqs = []));
      seqs.push(o.seq);
    }
    for (const [slot, seqs] of bySlot) this.#post(slot, { t: 'indexed', seqs });
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #post(s: Slot, m: ToWorker, transfer?: ArrayBuffer[]): void {
    s.worker.postMessage(m, transfer);
  }

  #packChain: Promise<void> = Promise.resolve();

  #onMessage(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'pack':
        this.#packOwner.set(m.id, { slot, seq: m.seq });
        // Stores run concurrently with chunking; the ack lets the worker continue.
        this.#storing++;
        this.#onPack(m)
          .then(
            () => this.#post(slot, { t: 'ack' }),
            (e: unknown) => this.#fail(e as Error),
          )
          .finally(() => {
            this.#storing--;
            if (this.#storing === 0) for (const w of this.#storeWaiters.splice(0)) w();
          });
        return;
      case 'progress':
        this.#onProgress(m.bytes);
        return;
      case 'done': {
        const j = this.#jobs.get(m.job);
        if (!j) return;
        this.#jobs.delete(m.job);
        j.slot.load -= j.bytes;
        const ids = m.ids;
        let at = ids.byteOffset;
        j.resolve(
          m.results.map(({ count, ...r }) => {
            const content = new Uint8Array(ids.buffer, at, count * 32);
            at += count * 32;
            return { ...r, content };
          }),
        );
        return;
      }
      case 'flushed': {
        // The flushed pack's store may still be running: wait for the packs handed over before it.
        const done = slot.flushed;
        slot.flushed = undefined;
        this.#packChain = this.#packChain.then(() => this.#waitStores()).then(() => done?.());
        return;
      }
      case 'fatal':
        this.#fail(new InternalError(`file worker failed: ${m.message}`));
        return;
    }
  }

  #storing = 0;
  #storeWaiters: (() => void)[] = [];

  #waitStores(): Promise<void> {
    if (this.#storing === 0) return Promise.resolve();
    return new Promise((r) => this.#storeWaiters.push(r));
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const j of this.#jobs.values()) {
      // the failed jobs' bytes leave the load, so callers waiting for it to drop wake up and see the failure
      j.slot.load -= j.bytes;
      j.reject(e);
    }
    this.#jobs.clear();
    for (const s of this.#slots) s.flushed?.();
  }
}
