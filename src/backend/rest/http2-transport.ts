import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { AbortedError, throwIfAborted } from '../../errors.ts';
import { TransientError } from '../backend.ts';
import type { Pacer } from '../rate-limit.ts';
import { bodySize, contentLength, netError, sendBody } from './body.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, type RestRequest, type RestResponse, type Transport } from './transport.ts';

export interface Http2Options {
  readonly idleTimeoutMs?: number;
  /**
   * Why the connection is gone, as the error to throw (e.g. "rclone exited: <its last error line>"). Asked when the
   * session has ended; it may wait briefly for the peer's exit status.
   */
  readonly whyClosed?: () => Promise<Error | undefined>;
  /**
   * Called with true when a request starts while none was in flight, and with false when the last one ends: the
   * peer (a child process) should keep this process alive only while it is being waited on, so a caller that never
   * calls `close` (an error path) cannot leave the process hanging.
   */
  readonly onBusy?: (busy: boolean) => void;
}

const ERROR_BODY_CAP = 4096;

/**
 * HTTP/2 with prior knowledge over one duplex stream (a child's stdin/stdout), as `rclone serve restic --stdio`
 * speaks it; requests are multiplexed on the single connection. The connection is made at the first request and
 * never re-made: once it ends, every request fails with `whyClosed()`.
 */
export class Http2Transport implements Transport {
  readonly #connect: () => Promise<Duplex>;
  readonly #o: Http2Options;
  #session: Promise<http2.ClientHttp2Session> | undefined;
  #ended = false;
  #closed = false;
  #inFlight = 0;
  #live: http2.ClientHttp2Session | undefined;

  constructor(connect: () => Promise<Duplex>, o: Http2Options = {}) {
    this.#connect = connect;
    this.#o = o;
  }

  #open(): Promise<http2.ClientHttp2Session> {
    this.#session ??= this.#connect().then((duplex) => {
      const s = http2.connect('http://localhost', {
        createConnection: () => duplex,
        // whole packs in flight on one connection: Node's default (10 MB) would reset streams under load
        maxSessionMemory: 256,
        settings: { initialWindowSize: 4 << 20 },
      });
      s.on('error', () => {}); // surfaces through the streams, and through whyClosed
      s.on('close', () => {
        this.#ended = true;
      });
      s.once('connect', () => s.setLocalWindowSize(16 << 20));
      this.#live = s;
      return s;
    });
    return this.#session;
  }

  async #gone(fallback: unknown): Promise<unknown> {
    return (await this.#o.whyClosed?.()) ?? fallback;
  }

  async request(r: RestRequest): Promise<RestResponse> {
    if (this.#inFlight++ === 0) this.#hold(true);
    try {
      return await this.#request(r);
    } finally {
      if (--this.#inFlight === 0) this.#hold(false);
    }
  }

  #hold(busy: boolean): void {
    this.#o.onBusy?.(busy);
    if (busy) this.#live?.ref();
    else this.#live?.unref();
  }

  async #request(r: RestRequest): Promise<RestResponse> {
    throwIfAborted(r.signal);
    if (this.#closed) throw new AbortedError('the repository connection is closed');
    const what = `${r.method} ${r.path}`;
    const session = await this.#open();
    if (this.#ended || session.destroyed || session.closed) throw await this.#gone(new TransientError(`${what}: the connection has ended`));
    const headers: http2.OutgoingHttpHeaders = { ...r.headers, ':method': r.method, ':path': r.path };
    if (r.body) {
      headers['content-length'] = String(bodySize(r.body));
      headers['content-type'] = 'application/octet-stream';
    }
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: !r.body });
    } catch (e) {
      throw await this.#gone(netError(e, r.signal, what));
    }
    const idleMs = this.#o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    stream.setTimeout(idleMs, () => stream.destroy(new TransientError(`${what}: no data moved for ${Math.round(idleMs / 1000)} s`)));
    const onAbort = (): void => {
      stream.destroy(new AbortedError('interrupted', { cause: r.signal?.reason }));
    };
    r.signal?.addEventListener('abort', onAbort, { once: true });
    // The body is taken as it arrives, from the start: a short answer may end (and its stream close) before the
    // code after `await response` runs.
    const body = collectBody(stream, r, what);
    const expectedFor = (h: http2.IncomingHttpHeaders, status: number): number | undefined =>
      r.method === 'HEAD' || status === 204 ? 0 : contentLength(h['content-length']);
    let answered = false;
    const response = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', (h) => {
        answered = true;
        // set up before any data event, which may come in the same tick
        const status = Number(h[':status'] ?? 0);
        body.configure(status >= 200 && status < 300 ? { expected: expectedFor(h, status), pace: r.paceDownload } : { cap: ERROR_BODY_CAP });
        resolve(h);
      });
      // settles after 'response' when there is one; a stream that ends without an answer is a lost connection
      body.done.then(() => reject(new TransientError(`${what}: the connection ended without an answer`)), reject);
    });
    if (r.body) sendBody(stream, r.body, r.paceUpload, r.signal).catch((e: unknown) => answered || stream.destroy(e as Error));
    try {
      const h = await response;
      const status = Number(h[':status'] ?? 0);
      const ok = status >= 200 && status < 300;
      const expected = expectedFor(h, status);
      const data = await body.done;
      if (ok && expected !== undefined && data.length !== expected) throw new TransientError(`${what}: the stream ended after ${data.length} of ${expected} bytes`);
      const headersOut: Record<string, string | string[] | undefined> = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headersOut[k] = v;
      return { status, headers: headersOut, body: data };
    } catch (e) {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      const mapped = netError(e, r.signal, what);
      throw this.#ended || session.destroyed ? await this.#gone(mapped) : mapped;
    } finally {
      r.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    if (!s) return;
    const session = await s.catch(() => undefined);
    if (!session || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        session.destroy();
        resolve();
      }, 2000);
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

interface BodyCollector {
  /** Settles when the stream has ended (with the body) or failed. */
  readonly done: Promise<Buffer>;
  /** Once the headers are in: the expected size, the pacer, or a cap on what is kept (error bodies). */
  configure(o: { expected?: number | undefined; pace?: Pacer | undefined; cap?: number }): void;
}

/** Reads a stream's data from the moment it is created; pacing pauses the stream (HTTP/2 flow control pushes back). */
function collectBody(stream: http2.ClientHttp2Stream, r: RestRequest, what: string): BodyCollector {
  const parts: Buffer[] = [];
  let kept = 0;
  let cap = Number.POSITIVE_INFINITY;
  let pace: Pacer | undefined;
  let expected: number | undefined;
  const done = new Promise<Buffer>((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      if (kept < cap) {
        const piece = c.length <= cap - kept ? c : c.subarray(0, cap - kept);
        parts.push(piece);
        kept += piece.length;
      }
      if (expected !== undefined && kept > expected) stream.destroy(new TransientError(`${what}: the server sent more than the announced ${expected} bytes`));
      else if (pace) {
        stream.pause();
        pace(c.length, r.signal).then(() => stream.resume(), (e: unknown) => stream.destroy(e as Error));
      }
    });
    stream.once('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, kept)));
    stream.on('error', reject);
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new TransientError(`${what}: the stream closed before the answer was complete`));
    });
  });
  done.catch(() => {});
  return {
    done,
    configure(o) {
      expected = o.expected;
      pace = o.pace;
      if (o.cap !== undefined) cap = o.cap;
    },
  };
}
