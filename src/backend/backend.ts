import { PyBackupError } from '../errors.ts';

/**
 * The storage interface. A backend knows names and bytes only: nothing of crypto, packs or indexes.
 * Retry, rate limits, concurrency and logging are wrappers (`BackendWrapper`).
 */
export const FILE_TYPES = ['config', 'key', 'pack', 'index', 'snapshot', 'lock'] as const;
export type FileType = (typeof FILE_TYPES)[number];

export interface Handle {
  readonly type: FileType;
  /** Lowercase hex (64 chars) for everything but `config`, whose name is ''. */
  readonly name: string;
}

export interface FileInfo {
  readonly name: string;
  readonly size: number;
}

/**
 * Content held in a local file (a pack spooled to disk while it was built). The backend may move the file into
 * place instead of copying it; whatever is left at `path` afterwards is the caller's to remove.
 */
export interface FileSource {
  readonly path: string;
  readonly size: number;
}

export function isFileSource(d: Uint8Array | FileSource): d is FileSource {
  return !(d instanceof Uint8Array);
}

export interface OpOptions {
  readonly signal?: AbortSignal;
}

export interface Backend {
  /** Human-readable location, without credentials. */
  readonly location: string;
  /**
   * A local directory on the backend's own file system where writers may spool files to be saved as FileSource
   * (saving is then a rename). Names starting with "." there are ignored by listings. Absent for remote backends.
   */
  readonly spoolDir?: string;
  /**
   * Where `h` is a plain file on this machine, for readers that read large ranges themselves (restore and check
   * workers: no buffer handed across threads, no fresh pages per range). Absent for remote backends, and hidden by
   * wrappers that must see every read (rate limits, fault injection). The reader falls back to load() on any error.
   */
  localPath?(h: Handle): string;
  /** Stores `data` under `h` atomically: a reader sees the whole file or nothing. Fails if it exists. */
  save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void>;
  /** Reads the whole file or a byte range of it. Throws NotFoundError when absent. */
  load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array>;
  /** Throws NotFoundError when absent. */
  stat(h: Handle, o?: OpOptions): Promise<FileInfo>;
  list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo>;
  /** Removing an absent file is not an error. */
  remove(h: Handle, o?: OpOptions): Promise<void>;
  /** Creates the layout; throws RepoExistsError if a config is already there. */
  create(o?: OpOptions): Promise<void>;
  close(): Promise<void>;
}

export type BackendWrapper = (inner: Backend) => Backend;

export class NotFoundError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

/** Retrying will not help (permission denied, invalid name, disk full). */
export class PermanentError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMANENT', message, options);
  }
}

/** Trying again may help (timeout, connection reset, server busy): the retry wrapper retries these. */
export class TransientError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRANSIENT', message, options);
  }
}

export class RepoNotFoundError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REPO_NOT_FOUND', message, options);
  }
}

export class RepoExistsError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REPO_EXISTS', message, options);
  }
}

export function handleString(h: Handle): string {
  return h.type === 'config' ? 'config' : `${h.type}/${h.name}`;
}
