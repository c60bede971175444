import { STATUS_CODES } from 'node:http';
import { throwIfAborted } from '../../errors.ts';
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
  TransientError,
  handleString,
} from '../backend.ts';
import { NAME_RE, TYPE_DIRS } from '../layout.ts';
import { PACES_STREAMS, type PacedOpOptions } from '../rate-limit.ts';
import { bodySize, contentLength } from './body.ts';
import type { RestRequest, RestResponse, Transport } from './transport.ts';

/** Listings with sizes (restic REST protocol v2); servers that only speak v1 answer with bare names. */
const V2 = 'application/vnd.x.restic.rest.v2';

export interface RestBackendOptions {
  readonly transport: Transport;
  /** Path prefix of the repository on the server, with a trailing slash ("/" or "/user/repo/"). */
  readonly basePath: string;
  /** Shown to users; never contains a password. */
  readonly location: string;
}

/**
 * A repository behind a restic REST server (rest-server, `rclone serve restic`): GET/HEAD/POST/DELETE on
 * `<base>config` and `<base><type dir>/<name>`, listings as JSON. 404 is NotFoundError; 401/403 and other client
 * errors are PermanentError; 5xx, 408, 429 and network failures are TransientError (the retry wrapper retries).
 */
export class RestBackend implements Backend {
  readonly location: string;
  readonly [PACES_STREAMS] = true as const;
  readonly #t: Transport;
  readonly #base: string;

  constructor(o: RestBackendOptions) {
    this.#t = o.transport;
    this.#base = o.basePath.endsWith('/') ? o.basePath : `${o.basePath}/`;
    this.location = o.location;
  }

  #path(h: Handle): string {
    if (h.type === 'config') return `${this.#base}config`;
    if (!NAME_RE.test(h.name)) throw new PermanentError(`invalid file name ${JSON.stringify(h.name)} for ${h.type}`);
    return `${this.#base}${TYPE_DIRS[h.type]}/${h.name}`;
  }

  async #call(r: RestRequest, o: PacedOpOptions | undefined): Promise<RestResponse> {
    throwIfAborted(o?.signal);
    return await this.#t.request({
      ...r,
      ...(o?.signal ? { signal: o.signal } : {}),
      ...(o?.paceUpload ? { paceUpload: o.paceUpload } : {}),
      ...(o?.paceDownload ? { paceDownload: o.paceDownload } : {}),
    });
  }

  async create(o?: OpOptions): Promise<void> {
    const head = await this.#call({ method: 'HEAD', path: `${this.#base}config` }, o);
    if (head.status === 200) throw new RepoExistsError(`a repository already exists at ${this.location}`);
    if (head.status !== 404) throw this.#fail('check for a repository', 'config', head, 'HEAD');
    const res = await this.#call({ method: 'POST', path: `${this.#base}?create=true` }, o);
    if (!ok(res)) throw this.#fail('create the repository', '', res, 'POST');
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: PacedOpOptions): Promise<void> {
    const res = await this.#call({ method: 'POST', path: this.#path(h), body: data }, o);
    if (ok(res)) return;
    // Append-only servers (and rest-server always) refuse to overwrite. Names are content hashes, so a file already
    // there with this size holds these bytes: the save is done. Not so for the config, whose name says nothing.
    if (res.status === 403 && h.type !== 'config') {
      const there = await this.stat(h, o).catch(() => undefined);
      if (there?.size === bodySize(data)) return;
    }
    throw this.#fail('save', handleString(h), res, 'POST');
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: PacedOpOptions): Promise<Uint8Array> {
    if (range && range.length === 0) {
      await this.stat(h, o);
      return new Uint8Array(0);
    }
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    const res = await this.#call({ method: 'GET', path: this.#path(h), headers }, o);
    if (res.status === 206 && range) {
      if (res.body.length !== range.length) throw short(h, range, res.body.length);
      return res.body;
    }
    if (res.status === 200) {
      if (!range) return res.body;
      // a server that ignores Range sends the whole file
      const part = res.body.subarray(range.offset, range.offset + range.length);
      if (part.length !== range.length) throw short(h, range, part.length);
      return part;
    }
    if (res.status === 416 && range) throw short(h, range, 0);
    throw this.#fail('load', handleString(h), res, 'GET');
  }

  async stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    const res = await this.#call({ method: 'HEAD', path: this.#path(h) }, o);
    if (!ok(res)) throw this.#fail('stat', handleString(h), res, 'HEAD');
    const size = contentLength(res.headers['content-length']);
    if (size === undefined) throw new PermanentError(`stat ${handleString(h)}: the server at ${this.location} sent no valid Content-Length`);
    return { name: h.name, size };
  }

  async *list(type: FileType, o?: PacedOpOptions): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        yield await this.stat({ type, name: '' }, o);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      return;
    }
    const res = await this.#call({ method: 'GET', path: `${this.#base}${TYPE_DIRS[type]}/`, headers: { accept: V2 } }, o);
    if (res.status === 404) return; // no such directory: nothing stored yet
    if (!ok(res)) throw this.#fail('list', TYPE_DIRS[type], res, 'GET');
    let entries: unknown;
    try {
      entries = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new PermanentError(`list ${TYPE_DIRS[type]}: the server at ${this.location} sent an invalid listing (not JSON)`, { cause: e });
    }
    if (!Array.isArray(entries)) throw new PermanentError(`list ${TYPE_DIRS[type]}: the server at ${this.location} sent an invalid listing (not a JSON array)`);
    for (const e of entries) {
      throwIfAborted(o?.signal);
      if (typeof e === 'string') {
        // protocol v1: names only
        if (!NAME_RE.test(e)) continue;
        try {
          yield await this.stat({ type, name: e }, o);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
        continue;
      }
      const { name, size } = (e ?? {}) as { name?: unknown; size?: unknown };
      if (typeof name !== 'string' || !NAME_RE.test(name)) continue;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new PermanentError(`list ${TYPE_DIRS[type]}: the server at ${this.location} sent an invalid size for ${name}`);
      }
      yield { name, size };
    }
  }

  async remove(h: Handle, o?: OpOptions): Promise<void> {
    const res = await this.#call({ method: 'DELETE', path: this.#path(h) }, o);
    if (ok(res) || res.status === 404) return;
    throw this.#fail('remove', handleString(h), res, 'DELETE');
  }

  async close(): Promise<void> {
    await this.#t.close();
  }

  /** The error for an unexpected answer: NotFound, Permanent (with advice for 401/403) or Transient. */
  #fail(op: string, target: string, res: RestResponse, method: RestRequest['method']): Error {
    const status = `${res.status} ${STATUS_CODES[res.status] ?? ''}`.trim();
    const what = target ? `${op} ${target}` : op;
    const said = serverText(res.body);
    const detail = said ? `: ${said}` : '';
    if (res.status === 404) return new NotFoundError(`${target || 'repository'} does not exist at ${this.location}`);
    if (res.status === 401) {
      return new PermanentError(
        `${what}: the server at ${this.location} refused the credentials (${status}); check the user name and password ` +
          '(in the URL, or PYBACKUP_REST_USERNAME / PYBACKUP_REST_PASSWORD)',
      );
    }
    if (res.status === 403) {
      if (method === 'DELETE') return new PermanentError(`${what}: the server at ${this.location} refused to delete it (${status}): the server is append-only`);
      if (method === 'POST' && target) {
        return new PermanentError(`${what}: the server at ${this.location} refused to write it (${status}): the server is append-only and the file exists, or it denies writes`);
      }
      return new PermanentError(`${what}: access denied by the server at ${this.location} (${status})${detail}`);
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) return new TransientError(`${what}: the server at ${this.location} answered ${status}${detail}`);
    return new PermanentError(`${what}: the server at ${this.location} answered ${status}${detail}`);
  }
}

function ok(res: RestResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

function short(h: Handle, range: { offset: number; length: number }, got: number): PermanentError {
  return new PermanentError(`load ${handleString(h)}: short read (${got} of ${range.length} bytes at ${range.offset})`);
}

/** The first line of a plain-text error body, without control characters, at most 200 characters. */
function serverText(body: Buffer): string {
  const line = body.toString('utf8').split('\n').find((l) => l.trim() !== '') ?? '';
  // oxlint-disable-next-line no-control-regex -- control characters are what is being removed
  return line.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 200);
}
