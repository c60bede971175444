import { AbortedError, throwIfAborted } from '../errors.ts';
import { type Backend, type BackendWrapper, type FileInfo, type FileSource, type FileType, type Handle, type OpOptions } from './backend.ts';
import { PACES_STREAMS } from './rate-limit.ts';

/** A counting semaphore whose waiters are served in arrival order; waiting ends at once on abort. */
export class Semaphore {
  readonly max: number;
  #held = 0;
  readonly #waiters: { grant: () => void; reject: (e: unknown) => void }[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency must be a positive integer, got ${max}`);
    this.max = max;
  }

  get held(): number {
    return this.#held;
  }

  /** Resolves with the function that gives the slot back (call it exactly once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    throwIfAborted(signal);
    if (this.#held < this.max && this.#waiters.length === 0) {
      this.#held++;
      return this.#releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const w = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new AbortedError('interrupted', { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(w);
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiters.shift();
      if (next) next.grant(); // the slot passes straight on
      else this.#held--;
    };
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * At most `max` calls in flight on the inner backend (restic's per-backend "connections"). A listing holds a slot
 * only while it waits for its next entry, so a caller may use the backend while it iterates.
 */
export function withConcurrency(max: number): BackendWrapper {
  return (inner) => new LimitedBackend(inner, new Semaphore(max));
}

class LimitedBackend implements Backend {
  readonly location: string;
  readonly spoolDir?: string;
  readonly localPath?: (h: Handle) => string;
  readonly [PACES_STREAMS]?: true;
  readonly #inner: Backend;
  readonly #sem: Semaphore;

  constructor(inner: Backend, sem: Semaphore) {
    this.#inner = inner;
    this.#sem = sem;
    this.location = inner.location;
    if (inner.spoolDir !== undefined) this.spoolDir = inner.spoolDir;
    if (inner.localPath) this.localPath = (h) => inner.localPath!(h);
    if ((inner as { [PACES_STREAMS]?: unknown })[PACES_STREAMS] === true) this[PACES_STREAMS] = true;
  }

  save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    return this.#sem.run(() => this.#inner.save(h, data, o), o?.signal);
  }

  load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    return this.#sem.run(() => this.#inner.load(h, range, o), o?.signal);
  }

  stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    return this.#sem.run(() => this.#inner.stat(h, o), o?.signal);
  }

  remove(h: Handle, o?: OpOptions): Promise<void> {
    return this.#sem.run(() => this.#inner.remove(h, o), o?.signal);
  }

  create(o?: OpOptions): Promise<void> {
    return this.#sem.run(() => this.#inner.create(o), o?.signal);
  }

  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    const it = this.#inner.list(type, o)[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        const r = await this.#sem.run(() => it.next(), o?.signal);
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      if (!done) await it.return?.();
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
