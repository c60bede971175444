import type { LookupFunction } from 'node:net';
import { UsageError, throwIfAborted } from '../../errors.ts';
import {
  type Backend,
  type FileInfo,
  type FileSource,
  type FileType,
  type Handle,
  NotFoundError,
  type OpOptions,
  PermanentError,
  RepoExistsError,
  handleString,
} from '../backend.ts';
import { NAME_RE, TYPE_DIRS, relPath } from '../layout.ts';
import { resolveS3Settings } from './credentials.ts';
import { type S3Location, defaultPathStyle, formatS3Location, isAwsHost, parseS3Location, regionFromHost } from './location.ts';
import { S3Client, type S3Response } from './s3-client.ts';
import { XmlError, escapeXml, parseListObjectsV2, type ListPage } from './xml.ts';

export interface S3BackendOptions {
  /** Where credentials, region and PYBACKUP_S3_PATH_STYLE are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides PYBACKUP_S3_PATH_STYLE, the profile's addressing_style and the default. */
  readonly pathStyle?: boolean;
  /** Overrides the region from the host name, the environment and the profile. */
  readonly region?: string;
  /** Keys per ListObjectsV2 page (default 1000, the S3 maximum). */
  readonly listPageSize?: number;
  readonly idleTimeoutMs?: number;
  /** Name resolution for connections (default DNS). */
  readonly lookup?: LookupFunction;
}

const OUR_DIRS = new Set(Object.values(TYPE_DIRS).filter((d) => d !== ''));

/**
 * A repository in an S3 bucket under an optional key prefix, with restic's REST layout as object names:
 * `<prefix>/config`, `keys/<id>`, `data/<2 hex>/<id>`, `index/<id>`, `snapshots/<id>`, `locks/<id>`.
 * A PUT is atomic on S3 (readers see the old object or the whole new one), which is all `save` needs.
 */
export class S3Backend implements Backend {
  readonly location: string;
  readonly #loc: S3Location;
  readonly #client: S3Client;
  /** The key prefix with its trailing slash, or ''. */
  readonly #base: string;
  readonly #pageSize: number;

  constructor(location: string, o: S3BackendOptions = {}) {
    const loc = parseS3Location(location);
    const env = o.env ?? process.env;
    const settings = resolveS3Settings(env);
    const pathStyle = o.pathStyle ?? parseBool(env.PYBACKUP_S3_PATH_STYLE, 'PYBACKUP_S3_PATH_STYLE') ?? (settings.addressingStyle ? settings.addressingStyle === 'path' : undefined) ?? defaultPathStyle(loc);
    const region = o.region ?? regionFromHost(loc.hostname) ?? settings.region ?? 'us-east-1';
    this.#loc = loc;
    this.location = formatS3Location(loc);
    this.#base = loc.prefix ? `${loc.prefix}/` : '';
    this.#pageSize = Math.max(1, Math.min(1000, o.listPageSize ?? 1000));
    this.#client = new S3Client({
      location: loc,
      pathStyle,
      region,
      credentials: settings.credentials,
      ...(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs }),
      ...(o.lookup ? { lookup: o.lookup } : {}),
    });
  }

  #key(h: Handle): string {
    return this.#base + relPath(h);
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    const what = `save ${handleString(h)}`;
    const res = await this.#client.request({ method: 'PUT', key: this.#key(h), body: data, signal: o?.signal, what });
    if (res.status !== 200 && res.status !== 201 && res.status !== 204) throw this.#client.errorFor(res, what);
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    const what = `load ${handleString(h)}`;
    if (range && (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0)) {
      throw new PermanentError(`${what}: bad range ${range.offset}+${range.length}`);
    }
    if (range?.length === 0) {
      await this.stat(h, o);
      return new Uint8Array(0);
    }
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    const res = await this.#client.request({ method: 'GET', key: this.#key(h), headers, signal: o?.signal, what });
    if (res.status === 416) throw new PermanentError(`${what}: the range ${range?.offset}+${range?.length} lies beyond the end of the file`);
    if (res.status !== 200 && res.status !== 206) throw this.#client.errorFor(res, what);
    return range ? rangeOf(res, range, what) : res.body;
  }

  async stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    const what = `stat ${handleString(h)}`;
    const res = await this.#client.request({ method: 'HEAD', key: this.#key(h), signal: o?.signal, what });
    if (res.status !== 200) throw this.#client.errorFor(res, what);
    const size = Number(res.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0) throw new PermanentError(`${what}: the server gave no valid Content-Length`);
    return { name: h.name, size };
  }

  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        yield await this.stat({ type: 'config', name: '' }, o);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      return;
    }
    const prefix = `${this.#base}${TYPE_DIRS[type]}/`;
    for await (const page of this.#pages(prefix, undefined, `list ${type}`, o)) {
      for (const { key, size } of page.contents) {
        throwIfAborted(o?.signal);
        if (!key.startsWith(prefix)) continue;
        const rel = key.slice(prefix.length);
        const name = type === 'pack' ? packName(rel) : rel;
        if (name !== undefined && NAME_RE.test(name)) yield { name, size };
      }
    }
  }

  async remove(h: Handle, o?: OpOptions): Promise<void> {
    const what = `remove ${handleString(h)}`;
    const res = await this.#client.request({ method: 'DELETE', key: this.#key(h), signal: o?.signal, what });
    if (res.status === 200 || res.status === 204) return;
    const err = this.#client.errorFor(res, what);
    if (!(err instanceof NotFoundError)) throw err;
  }

  /**
   * Checks the bucket (creating it when it does not exist) and that nothing but an empty repository layout lies
   * under the prefix: a `config` there means a repository exists; foreign objects mean the place is not empty.
   */
  async create(o?: OpOptions): Promise<void> {
    const what = `create the repository at ${this.location}`;
    const res = await this.#listOnce(this.#base, '/', undefined, what, o);
    if (res.status === 404 && this.#client.describe(res).code === 'NoSuchBucket') return await this.#createBucket(o);
    if (res.status !== 200) throw this.#client.errorFor(res, what);
    const first = parsePage(res, what);
    if (first.contents.some((c) => c.key === `${this.#base}config`)) throw new RepoExistsError(`a repository already exists at ${this.location}`);
    const foreign = first.contents.length > 0 || first.isTruncated || first.prefixes.some((p) => !OUR_DIRS.has(p.slice(this.#base.length).replace(/\/$/, '')));
    if (foreign) {
      throw new RepoExistsError(
        `${this.location} is not empty; refusing to create a repository there (choose an empty bucket or a key prefix: s3:${this.#loc.protocol}//host/bucket/prefix)`,
      );
    }
  }

  async #createBucket(o: OpOptions | undefined): Promise<void> {
    const what = `create the bucket "${this.#loc.bucket}"`;
    const region = this.#client.region;
    // Only AWS needs (and only AWS reliably understands) a LocationConstraint outside us-east-1.
    const body =
      isAwsHost(this.#loc.hostname) && region !== 'us-east-1'
        ? Buffer.from(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${escapeXml(region)}</LocationConstraint></CreateBucketConfiguration>`)
        : undefined;
    const res = await this.#client.request({ method: 'PUT', ...(body ? { body } : {}), signal: o?.signal, what });
    if (res.status === 200 || res.status === 204) return;
    const { code } = this.#client.describe(res);
    if (code === 'BucketAlreadyOwnedByYou') return;
    const err = this.#client.errorFor(res, what);
    if (code === 'BucketAlreadyExists') throw new PermanentError(`${what}: the name is taken by another account; choose another bucket name`);
    if (res.status === 403) throw new PermanentError(`the bucket "${this.#loc.bucket}" does not exist and these credentials may not create it (${err.message})`);
    throw err;
  }

  /** ListObjectsV2 pages under `prefix`, following continuation tokens. */
  async *#pages(prefix: string, delimiter: string | undefined, what: string, o: OpOptions | undefined): AsyncIterable<ListPage> {
    let token: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const res = await this.#listOnce(prefix, delimiter, token, what, o);
      if (res.status !== 200) throw this.#client.errorFor(res, what);
      const page = parsePage(res, what);
      yield page;
      if (!page.isTruncated) return;
      token = page.nextContinuationToken;
      if (token === undefined || seen.has(token)) throw new PermanentError(`${what}: the server's listing is truncated but gives no new continuation token`);
      seen.add(token);
    }
  }

  #listOnce(prefix: string, delimiter: string | undefined, token: string | undefined, what: string, o: OpOptions | undefined): Promise<S3Response> {
    const query: [string, string][] = [['list-type', '2'], ['max-keys', String(this.#pageSize)], ['prefix', prefix]];
    if (delimiter) query.push(['delimiter', delimiter]);
    if (token !== undefined) query.push(['continuation-token', token]);
    return this.#client.request({ method: 'GET', query, signal: o?.signal, what });
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}

/** data/<xx>/<name> -> name, when xx is the name's first two hex digits. */
function packName(rel: string): string | undefined {
  const m = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(rel);
  return m && m[2]?.startsWith(m[1] as string) ? m[2] : undefined;
}

function parsePage(res: S3Response, what: string): ListPage {
  try {
    return parseListObjectsV2(res.body.toString('utf8'));
  } catch (e) {
    if (e instanceof XmlError) throw new PermanentError(`${what}: the server sent a malformed listing (${e.message})`, { cause: e });
    throw e;
  }
}

/** The asked-for bytes of a ranged answer; a server that sends more (or ignores Range) is sliced, less is an error. */
function rangeOf(res: S3Response, range: { offset: number; length: number }, what: string): Uint8Array {
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    const from = m ? Number(m[1]) : range.offset;
    if (from > range.offset) throw new PermanentError(`${what}: the server answered a different range (${String(res.headers['content-range'])})`);
    start = range.offset - from;
  } else {
    start = range.offset;
  }
  if (res.body.length < start + range.length) {
    throw new PermanentError(`${what}: short read (${Math.max(0, res.body.length - start)} of ${range.length} bytes at ${range.offset})`);
  }
  return res.body.subarray(start, start + range.length);
}

function parseBool(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new UsageError(`${name}="${v}": expected true or false`);
}
