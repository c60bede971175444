import { AbortedError } from '../errors.ts';
import {
  type Backend,
  type BackendWrapper,
  type FileInfo,
  type FileSource,
  type FileType,
  type Handle,
  type OpOptions,
  PermanentError,
  TransientError,
  handleString,
} from './backend.ts';

export type FaultKind = 'transient' | 'timeout' | 'permanent';
export type FaultOp = 'save' | 'load' | 'stat' | 'list' | 'remove' | 'create';
export const FAULT_KINDS: readonly FaultKind[] = ['transient', 'timeout', 'permanent'];
export const FAULT_OPS: readonly FaultOp[] = ['save', 'load', 'stat', 'list', 'remove', 'create'];

/** Every call of `op` (on files of `type`, if given) after the first `after` such calls fails permanently. */
export interface FailRule {
  readonly op: FaultOp;
  readonly type?: FileType;
  readonly after: number;
}

export interface FaultInfo {
  readonly op: FaultOp;
  readonly target: string;
  readonly kind: FaultKind;
  /** A transient or timeout save fault may strike after the inner save succeeded; a listing fault after some entries. */
  readonly when: 'before' | 'after' | 'during';
}

export interface FaultOptions {
  /** Probability that a call fails (0..1); default 0. */
  readonly rate?: number;
  /** What a random fault is, chosen uniformly; default transient only. */
  readonly kinds?: readonly FaultKind[];
  /** Seed of the deterministic generator; same seed and same call order, same faults. */
  readonly seed?: number;
  /** Operations that random faults strike; default all but `create`. */
  readonly ops?: readonly FaultOp[];
  readonly fail?: readonly FailRule[];
  /** A "timeout" fault hangs until the call's signal aborts, or fails with TransientError after this long (60 s). */
  readonly hangMs?: number;
  readonly onFault?: (info: FaultInfo) => void;
}

/**
 * Fault injection for tests: random transient errors, hangs and permanent errors, with a seeded generator, and
 * rules that make a kind of call fail permanently after N calls. Put it *inside* withRetry to exercise retries.
 */
export function withFaults(o: FaultOptions): BackendWrapper {
  return (inner) => new FaultBackend(inner, o);
}

/** mulberry32: a small, fast, seeded PRNG with values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_OPS: readonly FaultOp[] = ['save', 'load', 'stat', 'list', 'remove'];

class FaultBackend implements Backend {
  readonly location: string;
  readonly spoolDir?: string;
  readonly #inner: Backend;
  readonly #o: FaultOptions;
  readonly #rand: () => number;
  readonly #ops: ReadonlySet<FaultOp>;
  readonly #kinds: readonly FaultKind[];
  readonly #counts: number[];

  constructor(inner: Backend, o: FaultOptions) {
    this.#inner = inner;
    this.#o = o;
    this.#rand = seededRandom(o.seed ?? 1);
    this.#ops = new Set(o.ops ?? DEFAULT_OPS);
    this.#kinds = o.kinds?.length ? o.kinds : ['transient'];
    this.#counts = (o.fail ?? []).map(() => 0);
    this.location = inner.location;
    if (inner.spoolDir !== undefined) this.spoolDir = inner.spoolDir;
  }

  /** The fault this call suffers, if any: a matching fail rule first, then the dice. */
  #roll(op: FaultOp, type: FileType | undefined): FaultKind | undefined {
    let kind: FaultKind | undefined;
    (this.#o.fail ?? []).forEach((r, i) => {
      if (r.op !== op || (r.type !== undefined && r.type !== type)) return;
      const n = (this.#counts[i] ?? 0) + 1;
      this.#counts[i] = n;
      if (n > r.after) kind = 'permanent';
    });
    if (kind) return kind;
    if (!this.#ops.has(op) || !(this.#rand() < (this.#o.rate ?? 0))) return undefined;
    return this.#kinds[Math.floor(this.#rand() * this.#kinds.length)];
  }

  async #strike(op: FaultOp, target: string, kind: FaultKind, when: FaultInfo['when'], signal: AbortSignal | undefined): Promise<never> {
    this.#o.onFault?.({ op, target, kind, when });
    if (kind === 'permanent') throw new PermanentError(`${op} ${target}: injected permanent fault`);
    if (kind === 'transient') throw new TransientError(`${op} ${target}: injected transient fault`);
    return await hang(signal, this.#o.hangMs ?? 60_000, `${op} ${target}`);
  }

  async #call<T>(op: FaultOp, h: Handle | undefined, o: OpOptions | undefined, fn: () => Promise<T>): Promise<T> {
    const kind = this.#roll(op, h?.type);
    if (kind) await this.#strike(op, h ? handleString(h) : 'repository', kind, 'before', o?.signal);
    return await fn();
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    const kind = this.#roll('save', h.type);
    if (!kind) return await this.#inner.save(h, data, o);
    // A lost reply (error or hang after the write landed) is what retries must survive; a permanent refusal is before.
    const after = kind !== 'permanent' && this.#rand() < 0.5;
    if (after) await this.#inner.save(h, data, o);
    await this.#strike('save', handleString(h), kind, after ? 'after' : 'before', o?.signal);
  }

  load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    return this.#call('load', h, o, () => this.#inner.load(h, range, o));
  }

  stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    return this.#call('stat', h, o, () => this.#inner.stat(h, o));
  }

  remove(h: Handle, o?: OpOptions): Promise<void> {
    return this.#call('remove', h, o, () => this.#inner.remove(h, o));
  }

  create(o?: OpOptions): Promise<void> {
    return this.#call('create', undefined, o, () => this.#inner.create(o));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** A listing fault strikes after 0..7 entries (or at the end of a shorter listing). */
  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    const kind = this.#roll('list', type);
    const at = kind ? Math.floor(this.#rand() * 8) : -1;
    let n = 0;
    for await (const f of this.#inner.list(type, o)) {
      if (kind && n === at) await this.#strike('list', type, kind, 'during', o?.signal);
      n++;
      yield f;
    }
    if (kind) await this.#strike('list', type, kind, 'during', o?.signal);
  }
}

/** Never answers: rejects with AbortedError when `signal` aborts, or with TransientError after `ms`. */
function hang(signal: AbortSignal | undefined, ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('interrupted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('interrupted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TransientError(`${what}: injected timeout (no answer in ${ms} ms)`));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
