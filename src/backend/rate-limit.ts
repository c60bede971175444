import { AbortedError, throwIfAborted } from '../errors.ts';
import {
  type Backend,
  type BackendWrapper,
  type FileInfo,
  type FileSource,
  type FileType,
  type Handle,
  type OpOptions,
  isFileSource,
} from './backend.ts';

/** Waits until `bytes` may move (rejects with AbortedError when `signal` aborts). */
export type Pacer = (bytes: number, signal?: AbortSignal) => Promise<void>;

/**
 * Options a stream-pacing backend honours: it calls `paceUpload` before sending each chunk of a request body and
 * `paceDownload` after receiving each chunk of a response body, so a limited transfer moves at an even rate.
 */
export interface PacedOpOptions extends OpOptions {
  readonly paceUpload?: Pacer;
  readonly paceDownload?: Pacer;
}

/** A backend with this property set to true paces its own streams (see PacedOpOptions); others are paced per call. */
export const PACES_STREAMS = Symbol.for('pybackup.backend.pacesStreams');

/** Chunk size stream-pacing backends should move between pacer calls. */
export const PACE_CHUNK = 64 * 1024;

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError('interrupted', { cause: signal.reason }));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new AbortedError('interrupted', { cause: signal?.reason }));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A token bucket of `rate` bytes per second holding at most `burst` bytes. Takers may run it into debt: each waits
 * until the bucket is back at zero, so concurrent takers share the rate in order and the long-run rate never
 * exceeds `rate` (plus one burst).
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, clock: Clock = realClock) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
    this.rate = rate;
    this.burst = Math.max(1, burst);
    this.#clock = clock;
    this.#tokens = this.burst;
    this.#last = clock.now();
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (bytes <= 0) return;
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return;
    try {
      await this.#clock.sleep((-this.#tokens * 1000) / this.rate, signal);
    } catch (e) {
      this.#tokens += bytes; // the bytes will not move: give their share back
      throw e;
    }
  }
}

export interface RateLimits {
  /** Bytes per second sent to the backend (save). */
  readonly uploadBytesPerSec?: number;
  /** Bytes per second received from the backend (load). */
  readonly downloadBytesPerSec?: number;
}

export function hasLimits(l: RateLimits | undefined): boolean {
  return !!l && (l.uploadBytesPerSec !== undefined || l.downloadBytesPerSec !== undefined);
}

/** Burst of a limit: half a second's worth, and at least one pacing chunk. */
function bucketFor(rate: number | undefined, clock: Clock): TokenBucket | undefined {
  return rate === undefined ? undefined : new TokenBucket(rate, Math.max(PACE_CHUNK, rate / 2), clock);
}

/**
 * Limits the bytes moved to and from the backend (restic's --limit-upload / --limit-download). A backend that
 * paces its own streams (PACES_STREAMS) gets the pacers and spreads each transfer evenly; for any other backend a
 * save or ranged load pays for its bytes before it starts and a whole-file load after it ends. Listings and stats
 * are not counted.
 */
export function withRateLimit(limits: RateLimits, clock: Clock = realClock): BackendWrapper {
  return (inner) => {
    const up = bucketFor(limits.uploadBytesPerSec, clock);
    const down = bucketFor(limits.downloadBytesPerSec, clock);
    return up || down ? new RateLimitedBackend(inner, up, down) : inner;
  };
}

class RateLimitedBackend implements Backend {
  readonly location: string;
  readonly spoolDir?: string;
  readonly #inner: Backend;
  readonly #up: TokenBucket | undefined;
  readonly #down: TokenBucket | undefined;
  readonly #streams: boolean;

  constructor(inner: Backend, up: TokenBucket | undefined, down: TokenBucket | undefined) {
    this.#inner = inner;
    this.#up = up;
    this.#down = down;
    this.#streams = (inner as { [PACES_STREAMS]?: unknown })[PACES_STREAMS] === true;
    this.location = inner.location;
    if (inner.spoolDir !== undefined) this.spoolDir = inner.spoolDir;
  }

  #paced(o: OpOptions | undefined): PacedOpOptions {
    const up = this.#up;
    const down = this.#down;
    return {
      ...o,
      ...(up ? { paceUpload: (n: number, s?: AbortSignal) => up.take(n, s) } : {}),
      ...(down ? { paceDownload: (n: number, s?: AbortSignal) => down.take(n, s) } : {}),
    };
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    if (this.#streams) return await this.#inner.save(h, data, this.#paced(o));
    await this.#up?.take(isFileSource(data) ? data.size : data.length, o?.signal);
    await this.#inner.save(h, data, o);
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    if (this.#streams) return await this.#inner.load(h, range, this.#paced(o));
    if (range) await this.#down?.take(range.length, o?.signal);
    const data = await this.#inner.load(h, range, o);
    if (!range) await this.#down?.take(data.length, o?.signal);
    return data;
  }

  stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    return this.#inner.stat(h, o);
  }

  list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    return this.#inner.list(type, this.#streams ? this.#paced(o) : o);
  }

  remove(h: Handle, o?: OpOptions): Promise<void> {
    return this.#inner.remove(h, o);
  }

  create(o?: OpOptions): Promise<void> {
    return this.#inner.create(o);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
