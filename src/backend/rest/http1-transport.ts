import http from 'node:http';
import https from 'node:https';
import { AbortedError, throwIfAborted } from '../../errors.ts';
import { TransientError } from '../backend.ts';
import { bodySize, contentLength, netError, readBody, sendBody } from './body.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, type RestRequest, type RestResponse, type Transport } from './transport.ts';

export interface Http1Options {
  /** Connections kept open and used at once (more requests queue in the agent). */
  readonly maxSockets: number;
  readonly idleTimeoutMs?: number;
  /** Sent with every request (Basic credentials); never logged. */
  readonly authorization?: string;
}

/** Error bodies are kept up to this size, for the message. */
const ERROR_BODY_CAP = 4096;

/** HTTP/1.1 (or HTTPS) to one origin over a bounded pool of keep-alive connections. */
export class Http1Transport implements Transport {
  readonly #origin: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #idleMs: number;
  readonly #auth: string | undefined;
  #closed = false;

  constructor(origin: URL, o: Http1Options) {
    this.#origin = origin;
    const secure = origin.protocol === 'https:';
    const agentOpts: http.AgentOptions = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets, scheduling: 'lifo' };
    this.#agent = secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.#request = secure ? https.request : http.request;
    this.#idleMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#auth = o.authorization;
  }

  async request(r: RestRequest): Promise<RestResponse> {
    throwIfAborted(r.signal);
    if (this.#closed) throw new AbortedError('the repository connection is closed');
    const headers: Record<string, string> = { ...r.headers };
    if (this.#auth) headers.authorization = this.#auth;
    if (r.body) {
      headers['content-length'] = String(bodySize(r.body));
      headers['content-type'] = 'application/octet-stream';
    }
    const req = this.#request({
      agent: this.#agent,
      protocol: this.#origin.protocol,
      hostname: this.#origin.hostname.replace(/^\[|\]$/g, ''),
      port: this.#origin.port || undefined,
      method: r.method,
      path: r.path,
      headers,
    });
    const what = `${r.method} ${r.path}`;
    // Why we ended the request ourselves: the response stream reports only "aborted" once it has begun.
    let reason: Error | undefined;
    const end = (e: Error): void => {
      reason ??= e;
      req.destroy(e);
    };
    const onAbort = (): void => end(new AbortedError('interrupted', { cause: r.signal?.reason }));
    r.signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(this.#idleMs, () => end(new TransientError(`${what}: no data moved for ${Math.round(this.#idleMs / 1000)} s`)));
    let answered = false;
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', (res) => {
        answered = true;
        resolve(res);
      });
      req.on('error', reject); // stays attached: a late error (after an early answer) must not go unhandled
    });
    // A failed send surfaces through the request's error (it destroys the request); an answer that came early
    // (401, 403) wins over the broken pipe that follows it.
    if (r.body) sendBody(req, r.body, r.paceUpload, r.signal).catch((e: unknown) => answered || end(e as Error));
    else req.end();
    try {
      const res = await response;
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const expected = r.method === 'HEAD' || status === 204 || status === 304 ? 0 : contentLength(res.headers['content-length']);
      const body = await readBody(res, ok ? { expected, pace: r.paceDownload, signal: r.signal } : { cap: ERROR_BODY_CAP, signal: r.signal });
      return { status, headers: res.headers, body };
    } catch (e) {
      req.destroy();
      throw netError(reason ?? e, r.signal, `${r.method} ${this.#origin.protocol}//${this.#origin.host}${r.path}`);
    } finally {
      r.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
  }
}
