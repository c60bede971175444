import { randomBytes } from 'node:crypto';
import { constants as C } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errnoCode, throwIfAborted } from '../../errors.ts';
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
  isFileSource,
} from '../backend.ts';
import { NAME_RE, TYPE_DIRS, relPath } from '../layout.ts';

/**
 * A repository in a local directory. Saves are atomic (temp file, fsync, rename, fsync of the directory),
 * so a crash leaves either the whole file or a stray temp file that listings ignore.
 */
export class LocalBackend implements Backend {
  readonly location: string;
  /** Spooled packs are built beside data/xx/, so saving one is a rename on the same file system. */
  readonly spoolDir: string;
  readonly #root: string;
  /** Fsync files and directories on save (durability); tests may turn it off. */
  readonly #sync: boolean;

  constructor(root: string, o: { sync?: boolean } = {}) {
    this.#root = resolve(root);
    this.location = this.#root;
    this.spoolDir = join(this.#root, 'data');
    this.#sync = o.sync ?? true;
  }

  #path(h: Handle): string {
    return join(this.#root, relPath(h));
  }

  localPath(h: Handle): string {
    return this.#path(h);
  }

  async create(o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    try {
      await fsp.access(join(this.#root, 'config'));
      throw new RepoExistsError(`a repository already exists at ${this.#root}`);
    } catch (e) {
      if (e instanceof RepoExistsError) throw e;
    }
    try {
      const st = await fsp.stat(this.#root).catch(() => undefined);
      if (st && !st.isDirectory()) throw new PermanentError(`${this.#root} exists and is not a directory`);
      if (st) {
        const entries = (await fsp.readdir(this.#root)).filter((n) => !n.startsWith('.'));
        const ours = new Set(['keys', 'data', 'index', 'snapshots', 'locks']);
        if (entries.some((n) => !ours.has(n))) throw new RepoExistsError(`${this.#root} is not empty; refusing to create a repository there`);
      }
      await fsp.mkdir(this.#root, { recursive: true, mode: 0o700 });
      for (const d of Object.values(TYPE_DIRS)) if (d) await fsp.mkdir(join(this.#root, d), { recursive: true, mode: 0o700 });
      await Promise.all(
        Array.from({ length: 256 }, (_, i) => fsp.mkdir(join(this.#root, 'data', i.toString(16).padStart(2, '0')), { recursive: true, mode: 0o700 })),
      );
    } catch (e) {
      if (e instanceof PermanentError || e instanceof RepoExistsError) throw e;
      throw new PermanentError(`cannot create repository at ${this.#root}: ${(e as Error).message}`, { cause: e });
    }
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    const path = this.#path(h);
    if (isFileSource(data)) return this.#saveSource(h, path, data, o);
    const tmp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off, off)).bytesWritten;
      if (this.#sync) await fh.datasync();
      await fh.close();
      fh = undefined;
      await fsp.rename(tmp, path);
      if (this.#sync) await syncDir(dirname(path));
    } catch (e) {
      await fh?.close().catch(() => {});
      await fsp.rm(tmp, { force: true }).catch(() => {});
      const code = errnoCode(e);
      if (code === 'ENOENT' && h.type === 'pack') {
        // data/<xx>/ may be missing in a repository copied without empty dirs: create and retry once.
        await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        return this.save(h, data, o);
      }
      throw mapSaveError(e, h);
    }
  }

  /** Moves a spooled file into place: fsync it, rename, fsync the directory. Another file system: copy instead. */
  async #saveSource(h: Handle, path: string, src: FileSource, o?: OpOptions): Promise<void> {
    try {
      const fh = await fsp.open(src.path, 'r');
      try {
        const st = await fh.stat();
        if (st.size !== src.size) throw new PermanentError(`save ${handleString(h)}: ${src.path} holds ${st.size} bytes, expected ${src.size}`);
        if (this.#sync) await fh.datasync();
      } finally {
        await fh.close();
      }
      throwIfAborted(o?.signal);
      await fsp.rename(src.path, path);
      if (this.#sync) await syncDir(dirname(path));
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EXDEV') return this.save(h, await fsp.readFile(src.path), o);
      if (code === 'ENOENT' && h.type === 'pack' && !(await exists(dirname(path)))) {
        await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        return this.#saveSource(h, path, src, o);
      }
      throw mapSaveError(e, h);
    }
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    throwIfAborted(o?.signal);
    const path = this.#path(h);
    try {
      if (!range) return await fsp.readFile(path, o?.signal ? { signal: o.signal } : undefined);
      const fh = await fsp.open(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(range.length);
        let got = 0;
        while (got < range.length) {
          const { bytesRead } = await fh.read(buf, got, range.length - got, range.offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got < range.length) throw new PermanentError(`load ${handleString(h)}: short read (${got} of ${range.length} bytes at ${range.offset})`);
        return buf;
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw mapReadError(e, h);
    }
  }

  async stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    throwIfAborted(o?.signal);
    try {
      const st = await fsp.stat(this.#path(h));
      return { name: h.name, size: st.size };
    } catch (e) {
      throw mapReadError(e, h);
    }
  }

  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    if (type === 'config') {
      try {
        const st = await fsp.stat(join(this.#root, 'config'));
        yield { name: '', size: st.size };
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
      return;
    }
    const base = join(this.#root, TYPE_DIRS[type]);
    const dirs = type === 'pack' ? await readdirOrEmpty(base) : [''];
    for (const sub of dirs) {
      if (type === 'pack' && !/^[0-9a-f]{2}$/.test(sub)) continue;
      throwIfAborted(o?.signal);
      const dir = join(base, sub);
      for (const name of await readdirOrEmpty(dir)) {
        if (!NAME_RE.test(name)) continue;
        try {
          const st = await fsp.stat(join(dir, name));
          yield { name, size: st.size };
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e;
        }
      }
    }
  }

  async remove(h: Handle, o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    try {
      await fsp.unlink(this.#path(h));
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }

  async close(): Promise<void> {}
}

/** Retrying cannot help a save that failed for want of space, permission or a directory: PermanentError. */
function mapSaveError(e: unknown, h: Handle): unknown {
  if (e instanceof PermanentError) return e;
  const code = errnoCode(e);
  if (code === 'ENOSPC' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR') {
    return new PermanentError(`save ${handleString(h)}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

function mapReadError(e: unknown, h: Handle): unknown {
  const code = errnoCode(e);
  // ENOTDIR: a path component is a file, so the file cannot exist there either
  if (code === 'ENOENT' || code === 'ENOTDIR') return new NotFoundError(`${handleString(h)} does not exist`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') {
    return new PermanentError(`${handleString(h)}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
