import type { Stats } from 'node:fs';
import type { Client, SFTPWrapper } from 'ssh2';
import { TransientError } from '../backend.ts';
import { SFTP_STATUS, mapSftpError, statusOf } from './errors.ts';

export interface DirEntry {
  readonly name: string;
  readonly size: number;
  /** Whether the server says it is a regular file (true when the server gives no mode). */
  readonly isFile: boolean;
}

type Cb<T> = (err: Error | null | undefined, value: T) => void;

/**
 * One SSH connection with its SFTP channel, as promises. Every request maps its error (mapSftpError); once the
 * connection is gone every request fails with TransientError at once, and the owner opens a new session.
 * Requests are independent: callers keep many in flight (the SFTP protocol allows it; ssh2 does not serialize).
 */
export class SftpSession {
  readonly client: Client;
  readonly sftp: SFTPWrapper;
  /** Largest READ / WRITE payload the server takes (limits@openssh.com), capped for memory. */
  readonly maxRead: number;
  readonly maxWrite: number;
  readonly hasPosixRename: boolean;
  readonly hasFsync: boolean;
  readonly describe: string;
  #closed = false;
  #closeReason: string | undefined;
  readonly #pending = new Set<(why: string) => void>();
  /** Requests in flight, for picking the least busy session. */
  inFlight = 0;

  constructor(client: Client, sftp: SFTPWrapper, describe: string) {
    this.client = client;
    this.sftp = sftp;
    this.describe = describe;
    // ssh2 keeps the negotiated limits (limits@openssh.com) and the server's extensions in internal fields
    const maxRead = Reflect.get(sftp, '_maxReadLen') as number | undefined;
    const maxWrite = Reflect.get(sftp, '_maxWriteLen') as number | undefined;
    const ext = (Reflect.get(sftp, '_extensions') ?? {}) as Record<string, string>;
    this.maxRead = Math.max(4096, Math.min(maxRead ?? 32 * 1024, 256 * 1024));
    this.maxWrite = Math.max(4096, Math.min(maxWrite ?? 32 * 1024, 256 * 1024));
    this.hasPosixRename = ext['posix-rename@openssh.com'] === '1';
    this.hasFsync = ext['fsync@openssh.com'] === '1';
    const onGone = (why: string) => () => this.markClosed(why);
    client.on('close', onGone('connection closed'));
    client.on('end', onGone('connection ended'));
    client.on('error', (e: Error) => this.markClosed(e.message));
    sftp.on('close', onGone('SFTP channel closed'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  markClosed(why: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = why;
    this.client.end();
    // ssh2 answers requests pending on a channel that closes, but not one issued as it closed: fail them all here
    for (const fail of this.#pending) fail(why);
  }

  /** Tears the connection down at once (used when a request timed out and the connection may hang). */
  destroy(why: string): void {
    this.markClosed(why);
    (this.client as unknown as { destroy?: () => void }).destroy?.();
  }

  #req<T>(what: string, start: (cb: Cb<T>) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new TransientError(`${what}: the SSH connection to ${this.describe} was lost (${this.#closeReason})`));
    this.inFlight++;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cb: Cb<T> = (err, value) => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        this.#pending.delete(fail);
        if (err) reject(mapSftpError(err, what, this.#closed));
        else resolve(value);
      };
      const fail = (why: string): void => cb(new TransientError(`${what}: the SSH connection to ${this.describe} was lost (${why})`), undefined as T);
      this.#pending.add(fail);
      try {
        start(cb);
      } catch (e) {
        cb(e as Error, undefined as T);
      }
    });
  }

  open(path: string, flags: 'r' | 'wx', what: string): Promise<Buffer> {
    return this.#req(what, (cb) => (flags === 'wx' ? this.sftp.open(path, flags, { mode: 0o600 }, cb) : this.sftp.open(path, flags, cb)));
  }

  close(handle: Buffer, what: string): Promise<void> {
    return this.#req(what, (cb) => this.sftp.close(handle, (err) => cb(err, undefined)));
  }

  /** Bytes read into buf[off, off+len) from `position`; 0 at end of file. */
  read(handle: Buffer, buf: Buffer, off: number, len: number, position: number, what: string): Promise<number> {
    return this.#req<number>(what, (cb) =>
      this.sftp.read(handle, buf, off, len, position, (err, n) => {
        if (err && statusOf(err) === SFTP_STATUS.EOF) cb(undefined, 0);
        else cb(err, n);
      }),
    );
  }

  write(handle: Buffer, buf: Buffer, off: number, len: number, position: number, what: string): Promise<void> {
    return this.#req(what, (cb) => this.sftp.write(handle, buf, off, len, position, (err) => cb(err, undefined)));
  }

  fsync(handle: Buffer, what: string): Promise<void> {
    return this.#req(what, (cb) => this.sftp.ext_openssh_fsync(handle, (err) => cb(err, undefined)));
  }

  fstat(handle: Buffer, what: string): Promise<Stats> {
    return this.#req(what, (cb) => this.sftp.fstat(handle, cb as never));
  }

  stat(path: string, what: string): Promise<Stats> {
    return this.#req(what, (cb) => this.sftp.stat(path, cb as never));
  }

  unlink(path: string, what: string): Promise<void> {
    return this.#req(what, (cb) => this.sftp.unlink(path, (err) => cb(err, undefined)));
  }

  mkdir(path: string, what: string): Promise<void> {
    return this.#req(what, (cb) => this.sftp.mkdir(path, { mode: 0o700 }, (err) => cb(err, undefined)));
  }

  /** posix-rename@openssh.com replaces an existing target atomically; plain SFTP rename fails if it exists. */
  rename(from: string, to: string, what: string): Promise<void> {
    return this.#req(what, (cb) =>
      this.hasPosixRename ? this.sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)) : this.sftp.rename(from, to, (err) => cb(err, undefined)),
    );
  }

  opendir(path: string, what: string): Promise<Buffer> {
    return this.#req(what, (cb) => this.sftp.opendir(path, cb));
  }

  /** The next batch of a directory's entries ("." and ".." left out), or undefined at the end. */
  readdir(handle: Buffer, what: string): Promise<DirEntry[] | undefined> {
    return this.#req<DirEntry[] | undefined>(what, (cb) =>
      this.sftp.readdir(handle, (err, list) => {
        if (err && statusOf(err) === SFTP_STATUS.EOF) return cb(undefined, undefined);
        if (err) return cb(err, undefined);
        cb(
          undefined,
          list.map((e) => {
            const mode = (e.attrs as { mode?: number }).mode;
            return { name: e.filename, size: Number(e.attrs.size ?? 0), isFile: mode === undefined || (mode & 0o170000) === 0o100000 };
          }),
        );
      }),
    );
  }

  end(): void {
    this.markClosed('closed by PyBackup');
  }
}
