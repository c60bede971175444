import { AbortedError } from '../../errors.ts';
import { type ConnectSettings, openSession } from './connect.ts';
import type { SftpSession } from './session.ts';

interface Slot {
  session: SftpSession | undefined;
  connecting: Promise<SftpSession> | undefined;
  /** An extra connection that failed (a server limiting sessions per user) is not tried again before this time. */
  retryAfter: number;
}

/** How long an extra connection that could not be opened is left alone. */
const EXTRA_RETRY_MS = 60_000;

/**
 * Up to `size` SSH connections, opened on demand and reopened after they drop. Each caller gets the least busy
 * live session; a further connection opens only when every live one is busy. Concurrent callers share one
 * connection attempt, so a dropped connection is redialled once, not once per waiting request.
 */
export class SessionPool {
  readonly #settings: ConnectSettings;
  readonly #open: typeof openSession;
  readonly #slots: Slot[];
  #closed = false;
  /** Busy means this many requests in flight: below it, an existing session takes more work. */
  static readonly BUSY = 4;

  constructor(settings: ConnectSettings, size: number, open: typeof openSession = openSession) {
    this.#settings = settings;
    this.#open = open;
    this.#slots = Array.from({ length: Math.max(1, size) }, () => ({ session: undefined, connecting: undefined, retryAfter: 0 }));
  }

  async get(signal?: AbortSignal): Promise<SftpSession> {
    if (this.#closed) throw new AbortedError('the SFTP backend is closed');
    let best: SftpSession | undefined;
    for (const slot of this.#slots) {
      if (slot.session?.closed) slot.session = undefined;
      const s = slot.session;
      if (s && (!best || s.inFlight < best.inFlight)) best = s;
    }
    if (best && best.inFlight < SessionPool.BUSY) return best;
    // no live session yet: join a connection attempt under way instead of starting another
    const underWay = best ? undefined : this.#slots.find((s) => s.connecting)?.connecting;
    if (underWay) return await waitFor(underWay, signal);
    const now = Date.now();
    const idle = this.#slots.find((s) => !s.session && !s.connecting && (!best || s.retryAfter <= now));
    if (idle) {
      // the first connection is awaited; extra ones open in the background while the busy ones keep working
      const p = this.#connect(idle);
      if (!best) return await waitFor(p, signal);
      p.catch(() => {
        idle.retryAfter = Date.now() + EXTRA_RETRY_MS;
      });
      return best;
    }
    // every slot is live or connecting: the least busy live session takes the call
    return best as SftpSession;
  }

  #connect(slot: Slot): Promise<SftpSession> {
    const p = this.#open(this.#settings).then(
      (s) => {
        slot.connecting = undefined;
        if (this.#closed) {
          s.end();
          throw new AbortedError('the SFTP backend is closed');
        }
        slot.session = s;
        return s;
      },
      (e: unknown) => {
        slot.connecting = undefined;
        throw e;
      },
    );
    slot.connecting = p;
    return p;
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.session?.end();
      slot.session = undefined;
    }
  }
}

function waitFor<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new AbortedError('interrupted', { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError('interrupted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
