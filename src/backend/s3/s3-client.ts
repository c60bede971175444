import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline } from 'node:stream';
import { AbortedError, errnoCode, throwIfAborted } from '../../errors.ts';
import { type FileSource, PermanentError, TransientError, isFileSource } from '../backend.ts';
import { type S3Location, formatS3Location, hostPort } from './location.ts';
import { answerError, describeAnswer, networkError } from './s3-errors.ts';
import { type Credentials, EMPTY_SHA256, sha256Hex, sign } from './sigv4.ts';
import { parseErrorXml } from './xml.ts';

/**
 * A minimal S3 REST client: one signed request at a time over keep-alive connections (node:http/https, so the
 * headers sent are exactly the ones signed). Bodies go with a fixed Content-Length and the real SHA-256 payload
 * hash (a file is hashed in a first pass, then streamed from disk): no chunked or aws-chunked encoding, no
 * checksum trailers, no ACL headers, which S3-compatible servers (B2, R2, Wasabi, Ceph, Garage, MinIO) may lack.
 */
export interface S3ClientOptions {
  readonly location: S3Location;
  readonly pathStyle: boolean;
  readonly region: string;
  readonly credentials: Credentials;
  /** A connection with no traffic for this long is dropped and the call fails as transient (default 60 s). */
  readonly idleTimeoutMs?: number;
  readonly maxSockets?: number;
  readonly now?: () => Date;
  /** Name resolution for the connection (default DNS); tests point virtual-host names at 127.0.0.1. */
  readonly lookup?: LookupFunction;
}

export interface S3Request {
  readonly method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  /** Object key; undefined addresses the bucket itself. */
  readonly key?: string;
  readonly query?: readonly (readonly [string, string])[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | FileSource;
  readonly signal?: AbortSignal | undefined;
  /** What the call does, for messages ("load data/ab/..."). */
  readonly what: string;
}

export interface S3Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export class S3Client {
  readonly location: S3Location;
  readonly #o: S3ClientOptions;
  readonly #agent: http.Agent;
  readonly #secrets: string[];
  #region: string;

  constructor(o: S3ClientOptions) {
    this.#o = o;
    this.location = o.location;
    this.#region = o.region;
    const agentOptions = { keepAlive: true, maxSockets: o.maxSockets ?? 16 };
    this.#agent = o.location.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#secrets = [o.credentials.secretAccessKey, ...(o.credentials.sessionToken ? [o.credentials.sessionToken] : [])];
  }

  get region(): string {
    return this.#region;
  }

  /** Sends the request and returns the answer, whatever its status. Failures below HTTP throw (classified). */
  async request(r: S3Request): Promise<S3Response> {
    throwIfAborted(r.signal);
    const endpoint = formatS3Location(this.location);
    try {
      const payloadHash = r.body === undefined ? EMPTY_SHA256 : isFileSource(r.body) ? await hashFile(r.body, r.signal) : sha256Hex(r.body);
      const res = await this.#once(r, payloadHash);
      // A bucket in another region than the one signed for: AWS names the right one; sign again for it, once.
      const region = regionHint(res);
      if (region && region !== this.#region) {
        this.#region = region;
        return await this.#once(r, payloadHash);
      }
      return res;
    } catch (e) {
      throw networkError(e, r.what, endpoint, r.signal);
    }
  }

  /** The server's error code and a safe one-line description of an answer. */
  describe(res: S3Response): { code: string; text: string } {
    return describeAnswer(res, this.#secrets);
  }

  /** The answer as a PyBackup error (for a status the caller does not accept). */
  errorFor(res: S3Response, what: string): Error {
    return answerError(res, what, this.#secrets, this.location.bucket);
  }

  close(): void {
    this.#agent.destroy();
  }

  #once(r: S3Request, payloadHash: string): Promise<S3Response> {
    const { location: loc, pathStyle } = this.#o;
    const hostname = pathStyle ? loc.hostname : `${loc.bucket}.${loc.hostname}`;
    const key = r.key === undefined ? '' : `/${r.key}`;
    const path = pathStyle ? `/${loc.bucket}${key}` : key || '/';
    const signed = sign({
      method: r.method,
      host: hostPort(loc, hostname),
      path,
      query: r.query ?? [],
      headers: { ...r.headers, 'x-amz-content-sha256': payloadHash },
      payloadHash,
      region: this.#region,
      service: 's3',
      credentials: this.#o.credentials,
      date: (this.#o.now ?? (() => new Date()))(),
    });
    const headers: Record<string, string> = { ...signed.headers };
    const size = r.body === undefined ? 0 : isFileSource(r.body) ? r.body.size : r.body.length;
    if (r.body !== undefined || r.method === 'PUT') headers['content-length'] = String(size);
    return this.#send(r, hostname, signed.pathAndQuery, headers);
  }

  #send(r: S3Request, hostname: string, pathAndQuery: string, headers: Record<string, string>): Promise<S3Response> {
    const mod = this.location.protocol === 'https:' ? https : http;
    const idleMs = this.#o.idleTimeoutMs ?? 60_000;
    return new Promise<S3Response>((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void): void => {
        if (settled) return;
        settled = true;
        r.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const req = mod.request({
        host: hostname,
        ...(this.location.port === undefined ? {} : { port: this.location.port }),
        method: r.method,
        path: pathAndQuery,
        headers,
        agent: this.#agent,
        ...(this.#o.lookup ? { lookup: this.#o.lookup } : {}),
      });
      const onAbort = (): void => {
        req.destroy(new AbortedError('interrupted', { cause: r.signal?.reason }));
      };
      r.signal?.addEventListener('abort', onAbort, { once: true });
      req.setTimeout(idleMs, () => req.destroy(new TransientError(`${r.what}: no answer from the server for ${Math.round(idleMs / 1000)} s`)));
      req.on('error', (e) => finish(() => reject(e)));
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length']);
        const sink = r.method !== 'HEAD' && Number.isSafeInteger(declared) && declared > 0 && declared <= 1 << 30 ? Buffer.allocUnsafe(declared) : undefined;
        const chunks: Buffer[] = [];
        let got = 0;
        res.on('data', (c: Buffer) => {
          if (sink && got + c.length <= sink.length) c.copy(sink, got);
          else chunks.push(c);
          got += c.length;
        });
        res.on('error', (e) => finish(() => reject(e)));
        res.on('end', () => {
          if (sink && got !== sink.length) return finish(() => reject(new TransientError(`${r.what}: the answer ended after ${got} of ${sink.length} bytes`)));
          const body = sink ?? Buffer.concat(chunks);
          finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
      });
      const body = r.body;
      if (body === undefined) {
        req.end();
      } else if (isFileSource(body)) {
        // pipeline closes the file whatever happens; its failures also reach req's 'error' listener
        pipeline(createReadStream(body.path, { highWaterMark: 1 << 20 }), req, () => {});
      } else {
        req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      }
    });
  }
}

/** The region AWS says a bucket lives in, on a "wrong region" answer. */
function regionHint(res: S3Response): string | undefined {
  // (a 301 needs another endpoint, not just another signature: that one is reported, not retried)
  if (res.status !== 400) return undefined;
  const header = res.headers['x-amz-bucket-region'];
  const fromHeader = typeof header === 'string' ? header : undefined;
  const info = res.body.length > 0 ? parseErrorXml(res.body.toString('utf8')) : undefined;
  if (info?.code !== 'AuthorizationHeaderMalformed') return undefined;
  const region = info.region ?? fromHeader;
  return region && /^[a-z0-9-]{1,40}$/.test(region) ? region : undefined;
}

/** SHA-256 of a file source, checking it holds the announced number of bytes. */
async function hashFile(src: FileSource, signal: AbortSignal | undefined): Promise<string> {
  const h = createHash('sha256');
  let n = 0;
  try {
    for await (const chunk of createReadStream(src.path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
  } catch (e) {
    if (signal?.aborted) throw new AbortedError('interrupted', { cause: signal.reason });
    throw new PermanentError(`cannot read ${src.path}: ${errnoCode(e) ?? (e as Error).message}`, { cause: e });
  }
  if (n !== src.size) throw new PermanentError(`${src.path} holds ${n} bytes, expected ${src.size}`);
  return h.digest('hex');
}
