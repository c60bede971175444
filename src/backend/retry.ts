import { AbortedError, PyBackupError, throwIfAborted } from '../errors.ts';
import {
  type Backend,
  type BackendWrapper,
  type FileInfo,
  type FileSource,
  type FileType,
  type Handle,
  NotFoundError,
  type OpOptions,
  TransientError,
  handleString,
  isFileSource,
} from './backend.ts';

export type BackendOp = 'save' | 'load' | 'stat' | 'list' | 'remove' | 'create';

export interface RetryInfo {
  readonly op: BackendOp;
  /** `type/name` of the file, or the file type for a listing. */
  readonly target: string;
  /** The attempt that failed (1-based); the next one is `attempt + 1`. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 10). */
  readonly attempts?: number;
  /** Backoff before retry k is uniform in [0, min(capMs, baseMs * 2^(k-1))] ("full jitter"). */
  readonly baseMs?: number;
  readonly capMs?: number;
  /** A call that has not settled after this long is aborted (through its signal) and retried. Default: none. */
  readonly timeoutMs?: number;
  /** Injectable for tests. `sleep` should honour the signal; the wrapper stops waiting on abort regardless. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (info: RetryInfo) => void;
}

/** errno / socket codes worth another try; anything else with a code (ENOSPC, EACCES, ...) is final. */
const TRANSIENT_CODES = new Set([
  'EAGAIN', 'EWOULDBLOCK', 'EBUSY', 'EINTR', 'EIO', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED',
  'EPIPE', 'ENETDOWN', 'ENETUNREACH', 'ENETRESET', 'EHOSTUNREACH', 'EHOSTDOWN', 'EAI_AGAIN', 'ESTALE', 'EMFILE', 'ENFILE',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/**
 * Whether another attempt may succeed. Never: NotFoundError, PermanentError, aborts, and every other classified
 * PyBackupError (integrity, invalid input, ...). Yes: TransientError, a timeout, or a transient errno code on the
 * error or its causes. Unclassified errors are not retried: they are usually bugs, and backends map what they know.
 */
export function isTransient(e: unknown): boolean {
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof PyBackupError) {
      if (cur.code === 'TRANSIENT') return true;
      if (cur.code !== 'IO') return false;
    } else if ((cur as { name?: unknown }).name === 'TimeoutError') {
      return true;
    }
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

const DEFAULTS = { attempts: 10, baseMs: 100, capMs: 15_000 };

/** Retries transient failures with capped exponential backoff and full jitter; optionally times calls out. */
export function withRetry(o: RetryOptions = {}): BackendWrapper {
  return (inner) => new RetryBackend(inner, o);
}

class RetryBackend implements Backend {
  readonly location: string;
  readonly spoolDir?: string;
  readonly localPath?: (h: Handle) => string;
  readonly #inner: Backend;
  readonly #o: RetryOptions;
  readonly #attempts: number;

  constructor(inner: Backend, o: RetryOptions) {
    this.#inner = inner;
    this.#o = o;
    this.#attempts = Math.max(1, o.attempts ?? DEFAULTS.attempts);
    this.location = inner.location;
    if (inner.spoolDir !== undefined) this.spoolDir = inner.spoolDir;
    if (inner.localPath) this.localPath = (h) => inner.localPath!(h);
  }

  create(o?: OpOptions): Promise<void> {
    return this.#run('create', 'config', (oo) => this.#inner.create(oo), o);
  }

  /**
   * Names are content hashes, so a file already stored under `h` with the expected size holds these bytes: a retry
   * (after a timeout or an error that struck after the write landed) checks for it first, and accepts it.
   */
  save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    const size = isFileSource(data) ? data.size : data.length;
    return this.#run('save', handleString(h), async (oo, attempt) => {
      if (attempt > 1 && (await this.#storedWithSize(h, size, oo))) return;
      try {
        await this.#inner.save(h, data, oo);
      } catch (e) {
        // "already exists", or a spooled source already moved by an earlier attempt: the file is there, so done
        if (attempt > 1 && (await this.#storedWithSize(h, size, oo).catch(() => false))) return;
        throw e;
      }
    }, o);
  }

  async #storedWithSize(h: Handle, size: number, o: OpOptions | undefined): Promise<boolean> {
    try {
      return (await this.#inner.stat(h, o)).size === size;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    return this.#run('load', handleString(h), (oo) => this.#inner.load(h, range, oo), o);
  }

  stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    return this.#run('stat', handleString(h), (oo) => this.#inner.stat(h, oo), o);
  }

  remove(h: Handle, o?: OpOptions): Promise<void> {
    return this.#run('remove', handleString(h), (oo) => this.#inner.remove(h, oo), o);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /**
   * A failed listing restarts from the beginning; names already yielded are skipped, so the caller sees each name
   * once. Attempts count failures in a row: a restart that yields something new starts the count again.
   */
  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    const seen = new Set<string>();
    const signal = o?.signal;
    for (let attempt = 1; ; attempt++) {
      const attemptAc = this.#o.timeoutMs === undefined ? undefined : new AbortController();
      const unlink = attemptAc ? linkAbort(signal, attemptAc) : undefined;
      const it = this.#inner.list(type, attemptAc ? { signal: attemptAc.signal } : o)[Symbol.asyncIterator]();
      let done = false;
      let hung = false;
      try {
        for (;;) {
          const r = await (attemptAc ? this.#timed(it.next(), attemptAc, signal, `list ${type}`) : it.next());
          if (r.done) {
            done = true;
            return;
          }
          if (seen.has(r.value.name)) continue;
          seen.add(r.value.name);
          attempt = 1;
          yield r.value;
        }
      } catch (e) {
        done = true;
        hung = attemptAc?.signal.aborted ?? false;
        await this.#afterFailure('list', type, attempt, e, signal);
      } finally {
        unlink?.();
        // Stopped early by the caller: close the inner listing. After a timeout it may still be pending: don't wait.
        if (!done) await it.return?.();
        else if (hung) void it.return?.()?.catch(() => {});
      }
    }
  }

  async #run<T>(op: BackendOp, target: string, fn: (o: OpOptions | undefined, attempt: number) => Promise<T>, o: OpOptions | undefined): Promise<T> {
    const signal = o?.signal;
    for (let attempt = 1; ; attempt++) {
      let ac: AbortController | undefined;
      let pending: Promise<T> | undefined;
      try {
        if (this.#o.timeoutMs === undefined) return await fn(o, attempt);
        ac = new AbortController();
        const unlink = linkAbort(signal, ac);
        try {
          pending = fn({ signal: ac.signal }, attempt);
          return await this.#timed(pending, ac, signal, `${op} ${target}`);
        } finally {
          unlink();
        }
      } catch (e) {
        await this.#afterFailure(op, target, attempt, e, signal);
        // A timed-out save may still land (a rename cannot be recalled): give it up to one more timeout to settle
        // before the retry looks for the file, so two attempts do not race over the same spooled source.
        if (op === 'save' && pending && ac?.signal.aborted) await untilAbort(settledWithin(pending, this.#o.timeoutMs as number), signal);
      }
    }
  }

  /** Rethrows what must not be retried; otherwise waits out the backoff (abortable) so the caller can try again. */
  async #afterFailure(op: BackendOp, target: string, attempt: number, e: unknown, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw e instanceof AbortedError ? e : new AbortedError('interrupted', { cause: signal.reason });
    if (attempt >= this.#attempts || !isTransient(e)) throw e;
    const base = this.#o.baseMs ?? DEFAULTS.baseMs;
    const cap = this.#o.capMs ?? DEFAULTS.capMs;
    const delayMs = Math.floor((this.#o.random ?? Math.random)() * Math.min(cap, base * 2 ** (attempt - 1)));
    this.#o.onRetry?.({ op, target, attempt, delayMs, error: e });
    await untilAbort((this.#o.sleep ?? sleep)(delayMs, signal), signal);
    throwIfAborted(signal);
  }

  /**
   * Settles with `p`, or rejects with a TransientError after `timeoutMs` (aborting `ac`, which the inner call was
   * given), or with AbortedError when the caller aborts. An abandoned `p` has its rejection swallowed.
   */
  #timed<T>(p: Promise<T>, ac: AbortController, signal: AbortSignal | undefined, what: string): Promise<T> {
    const ms = this.#o.timeoutMs as number;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TransientError(`${what}: no answer within ${ms} ms`);
        reject(err);
        ac.abort(err);
      }, ms);
    });
    p.catch(() => {});
    return untilAbort(Promise.race([p, timeout]), signal).finally(() => clearTimeout(timer));
  }
}

/** Aborts `ac` when `signal` aborts; returns the function that undoes the link. */
function linkAbort(signal: AbortSignal | undefined, ac: AbortController): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    ac.abort(signal.reason);
    return () => {};
  }
  const onAbort = (): void => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** `p`, or AbortedError as soon as `signal` aborts (whichever comes first). */
function untilAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(new AbortedError('interrupted', { cause: signal.reason }));
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError('interrupted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  p.catch(() => {});
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort as () => void));
}

function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('interrupted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
