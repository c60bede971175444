import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { AbortedError, PyBackupError, throwIfAborted } from '../../errors.ts';
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
  isFileSource,
} from '../backend.ts';
import { NAME_RE, TYPE_DIRS, relPath } from '../layout.ts';
import type { SftpConfig } from './config.ts';
import { formatSftpLocation } from './location.ts';
import { SessionPool } from './pool.ts';
import type { DirEntry, SftpSession } from './session.ts';
import { HandleCache } from './handle-cache.ts';
import { readRange, readWhole, writeBytes, writeLocalFile } from './transfer.ts';

const DATA_SUBDIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** data/xx directories listed at once: hides the round trips of 256 directory listings. */
const LIST_AHEAD = 8;

/**
 * A repository on an SFTP server (ssh2, the server's own SFTP subsystem). Saves write a temp file in the target
 * directory with many requests in flight, fsync it (fsync@openssh.com, when offered) and rename it into place
 * (posix-rename@openssh.com replaces atomically; plain SFTP rename is the fallback). Loads read ranges with many
 * requests in flight. A dropped connection fails the calls on it with TransientError; the next call redials.
 */
export class SftpBackend implements Backend {
  readonly location: string;
  readonly #root: string;
  readonly #pool: SessionPool;
  /** Cached read handles of pack files, per live session. */
  readonly #caches = new Map<SftpSession, HandleCache>();

  constructor(config: SftpConfig) {
    this.location = formatSftpLocation(config.location);
    this.#root = config.path;
    this.#pool = new SessionPool(config, config.connections);
  }

  #path(h: Handle): string {
    return posix.join(this.#root, relPath(h));
  }

  /** Runs `fn` on a live session; if the caller's signal fires first, rejects at once (a timeout also drops the session). */
  async #with<T>(o: OpOptions | undefined, fn: (s: SftpSession) => Promise<T>): Promise<T> {
    const signal = o?.signal;
    throwIfAborted(signal);
    const s = await this.#pool.get(signal);
    const p = fn(s);
    if (!signal) return await p;
    p.catch(() => {});
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        // the retry wrapper's per-call timeout: the connection may hang, so drop it and let the retry redial
        if (signal.reason instanceof TransientError) s.destroy('a request timed out');
        reject(signal.reason instanceof PyBackupError ? signal.reason : new AbortedError('interrupted', { cause: signal.reason }));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async create(o?: OpOptions): Promise<void> {
    await this.#with(o, async (s) => {
      const root = this.#root;
      if (await this.#exists(s, posix.join(root, 'config'))) throw new RepoExistsError(`a repository already exists at ${this.location}`);
      const st = await s.stat(root, `stat ${root}`).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      if (st && !st.isDirectory()) throw new PermanentError(`${this.location} exists and is not a directory`);
      if (st) {
        const ours = new Set(Object.values(TYPE_DIRS));
        for await (const batch of this.#readdir(s, root)) {
          if (batch.some((e) => !e.name.startsWith('.') && !ours.has(e.name))) {
            throw new RepoExistsError(`${this.location} is not empty; refusing to create a repository there`);
          }
        }
      }
      await this.#ensureDir(s, root);
      for (const d of Object.values(TYPE_DIRS)) if (d) await this.#ensureDir(s, posix.join(root, d));
      await Promise.all(DATA_SUBDIRS.map((x) => this.#ensureDir(s, posix.join(root, 'data', x))));
    });
  }

  async #exists(s: SftpSession, path: string): Promise<boolean> {
    try {
      await s.stat(path, `stat ${path}`);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  /** mkdir -p: an existing directory is fine, a missing parent is made first. */
  async #ensureDir(s: SftpSession, dir: string): Promise<void> {
    try {
      await s.mkdir(dir, `mkdir ${dir}`);
    } catch (e) {
      if (e instanceof NotFoundError && dir !== '/' && posix.dirname(dir) !== dir && posix.dirname(dir) !== '.') {
        await this.#ensureDir(s, posix.dirname(dir));
        return await this.#ensureDir(s, dir);
      }
      const st = await s.stat(dir, `stat ${dir}`).catch(() => undefined);
      if (st?.isDirectory()) return;
      if (e instanceof NotFoundError) throw new PermanentError(`cannot create ${dir} on ${this.location}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    const path = this.#path(h);
    const dir = posix.dirname(path);
    const what = `save ${handleString(h)}`;
    await this.#with(o, async (s) => {
      const tmp = posix.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
      let handle: Buffer | undefined;
      try {
        try {
          handle = await s.open(tmp, 'wx', what);
        } catch (e) {
          // data/<xx>/ may be missing in a repository copied without empty directories
          if (!(e instanceof NotFoundError) || h.type !== 'pack') throw e;
          await this.#ensureDir(s, dir);
          handle = await s.open(tmp, 'wx', what);
        }
        if (isFileSource(data)) await writeLocalFile(s, handle, data.path, data.size, what, o?.signal);
        else await writeBytes(s, handle, data, what, o?.signal);
        if (s.hasFsync) await s.fsync(handle, what);
        const hd = handle;
        handle = undefined;
        await s.close(hd, what);
        throwIfAborted(o?.signal);
        for (const c of this.#caches.values()) c.drop(path);
        await this.#renameIntoPlace(s, tmp, path, h, what);
      } catch (e) {
        if (handle) s.close(handle, what).catch(() => {});
        s.unlink(tmp, what).catch(() => {});
        // a missing directory is not a missing file: retrying cannot make it appear
        if (e instanceof NotFoundError) throw new PermanentError(`${what}: the directory ${dir} is missing on ${this.location}`, { cause: e });
        throw e;
      }
    });
  }

  /**
   * posix-rename replaces an existing file atomically. Plain SFTP rename refuses to: then an existing file with
   * content-addressed name and the same size already holds these bytes, and the config is replaced by
   * remove + rename (the one non-atomic step, only on servers without posix-rename).
   */
  async #renameIntoPlace(s: SftpSession, tmp: string, path: string, h: Handle, what: string): Promise<void> {
    try {
      await s.rename(tmp, path, what);
    } catch (e) {
      if (s.hasPosixRename || !(e instanceof PermanentError)) throw e;
      const st = await s.stat(path, what).catch(() => undefined);
      if (!st) throw e;
      const size = (await s.stat(tmp, what)).size;
      if (h.type !== 'config' && st.size === size) {
        await s.unlink(tmp, what);
        return;
      }
      await s.unlink(path, what);
      await s.rename(tmp, path, what);
    }
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    const path = this.#path(h);
    const what = `load ${handleString(h)}`;
    const notFound = (e: unknown): never => {
      throw e instanceof NotFoundError ? new NotFoundError(`${handleString(h)} does not exist`, { cause: e }) : e;
    };
    return await this.#with(o, async (s) => {
      if (range && h.type === 'pack') {
        return await this.#handles(s)
          .use(path, what, (handle) => readRange(s, handle, range.offset, range.length, what, o?.signal))
          .catch(notFound);
      }
      const handle = await s.open(path, 'r', what).catch(notFound);
      try {
        if (range) return await readRange(s, handle, range.offset, range.length, what, o?.signal);
        return await readWhole(s, handle, what, o?.signal);
      } finally {
        // no need to wait for the answer: the next request on this session is ordered after it
        s.close(handle, what).catch(() => {});
      }
    });
  }

  #handles(s: SftpSession): HandleCache {
    for (const k of this.#caches.keys()) if (k.closed) this.#caches.delete(k);
    let c = this.#caches.get(s);
    if (!c) this.#caches.set(s, (c = new HandleCache(s)));
    return c;
  }

  async stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    const path = this.#path(h);
    return await this.#with(o, async (s) => {
      try {
        const st = await s.stat(path, `stat ${handleString(h)}`);
        return { name: h.name, size: Number(st.size) };
      } catch (e) {
        throw e instanceof NotFoundError ? new NotFoundError(`${handleString(h)} does not exist`, { cause: e }) : e;
      }
    });
  }

  async remove(h: Handle, o?: OpOptions): Promise<void> {
    const path = this.#path(h);
    for (const c of this.#caches.values()) c.drop(path);
    await this.#with(o, async (s) => {
      try {
        await s.unlink(path, `remove ${handleString(h)}`);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    });
  }

  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    throwIfAborted(o?.signal);
    const s = await this.#pool.get(o?.signal);
    if (type === 'config') {
      try {
        const st = await s.stat(posix.join(this.#root, 'config'), 'stat config');
        yield { name: '', size: Number(st.size) };
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      return;
    }
    const base = posix.join(this.#root, TYPE_DIRS[type]);
    if (type !== 'pack') {
      for await (const batch of this.#readdir(s, base, o?.signal)) yield* files(batch);
      return;
    }
    const subdirs: string[] = [];
    for await (const batch of this.#readdir(s, base, o?.signal)) for (const e of batch) if (/^[0-9a-f]{2}$/.test(e.name)) subdirs.push(e.name);
    subdirs.sort();
    const all = async (d: string): Promise<DirEntry[]> => {
      const out: DirEntry[] = [];
      for await (const batch of this.#readdir(s, posix.join(base, d), o?.signal)) out.push(...batch);
      return out;
    };
    const pending = subdirs.slice(0, LIST_AHEAD).map(all);
    for (let i = 0; i < subdirs.length; i++) {
      const next = subdirs[i + LIST_AHEAD];
      if (next !== undefined) pending.push(all(next));
      for (const p of pending.slice(i + 1)) p.catch(() => {});
      yield* files(await (pending[i] as Promise<DirEntry[]>));
    }
  }

  /** A directory's entries in the server's batches (opendir + readdir); an absent directory has none. */
  async *#readdir(s: SftpSession, dir: string, signal?: AbortSignal): AsyncIterable<DirEntry[]> {
    const what = `list ${dir}`;
    let handle: Buffer;
    try {
      handle = await s.opendir(dir, what);
    } catch (e) {
      if (e instanceof NotFoundError) return;
      throw e;
    }
    try {
      for (;;) {
        throwIfAborted(signal);
        const batch = await s.readdir(handle, what);
        if (!batch) return;
        yield batch;
      }
    } finally {
      s.close(handle, what).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#pool.close();
  }
}

function* files(batch: readonly DirEntry[]): Iterable<FileInfo> {
  for (const e of batch) if (e.isFile && NAME_RE.test(e.name)) yield { name: e.name, size: e.size };
}
