import { NotFoundError } from '../backend/backend.ts';
import type { KdfParams } from '../crypto/kdf.ts';
import { PyBackupError, UsageError, throwIfAborted } from '../errors.ts';
import { parseIdPrefix } from './ids.ts';
import { type KeyFile, type KeyFileMeta, parseKeyFile } from './keyfile.ts';
import { MAX_KEY_FILES } from './repo-open.ts';
import type { InitOptions, Repository } from './repository.ts';

/**
 * Key management (`key list | add | remove | passwd`). Every key file seals the same master key under its own
 * password, so keys can be added and removed freely as long as one usable key remains; the master key itself never
 * changes.
 */

export class KeyNotFoundError extends PyBackupError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class AmbiguousKeyIdError extends PyBackupError {
  constructor(message: string) {
    super('AMBIGUOUS_ID', message);
  }
}

/** One key file as listed: `file` is undefined when it cannot be read or parsed (`error` says why). */
export interface KeyInfo {
  readonly id: string;
  /** The key file this process opened the repository with. */
  readonly current: boolean;
  readonly file?: KeyFile;
  readonly error?: string;
}

export interface NewKeyOptions {
  readonly kdf?: InitOptions['kdf'];
  readonly username?: string;
  readonly hostname?: string;
  readonly signal?: AbortSignal;
}

type KeyRepo = Pick<Repository, 'backend' | 'keyName' | 'assertMayDelete'>;
const opts = (signal: AbortSignal | undefined): { signal: AbortSignal } | undefined => (signal ? { signal } : undefined);

/** Every key file, oldest first. Damaged key files are listed with their error, never thrown. */
export async function listKeys(repo: KeyRepo, o: { signal?: AbortSignal } = {}): Promise<KeyInfo[]> {
  const names: string[] = [];
  for await (const f of repo.backend.list('key', opts(o.signal))) names.push(f.name);
  const out: KeyInfo[] = [];
  for (const id of names) {
    throwIfAborted(o.signal);
    const current = id === repo.keyName;
    try {
      out.push({ id, current, file: parseKeyFile(await repo.backend.load({ type: 'key', name: id }, undefined, opts(o.signal))) });
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
      if (e instanceof NotFoundError) continue; // removed while listing
      out.push({ id, current, error: (e as Error).message });
    }
  }
  const created = (k: KeyInfo): string => (typeof k.file?.created === 'string' ? k.file.created : '');
  return out.sort((a, b) => (created(a) < created(b) ? -1 : created(a) > created(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A full key id or a unique hex prefix of one -> that key. */
export function resolveKey(keys: readonly KeyInfo[], ref: string): KeyInfo {
  const p = parseIdPrefix(ref);
  const hits = keys.filter((k) => k.id.startsWith(p));
  if (hits.length === 0) throw new KeyNotFoundError(`no key matches ID ${JSON.stringify(ref)} (see "pybackup key list")`);
  if (hits.length > 1) throw new AmbiguousKeyIdError(`key ID prefix ${JSON.stringify(ref)} is ambiguous (${hits.length} keys match); give more digits`);
  return hits[0] as KeyInfo;
}

/** Validates a --user / --host override: non-empty, printable, at most 255 characters. */
export function checkKeyMeta(what: string, v: string): string {
  if (v.length === 0 || v.length > 255 || /\p{Cc}/u.test(v)) throw new UsageError(`${what} must be 1-255 printable characters`);
  return v;
}

/** Adds a key file for `password`; refuses once opening would no longer try every key file. Returns its id. */
export async function addKey(repo: KeyRepo & Pick<Repository, 'addKey'>, password: string, o: NewKeyOptions = {}): Promise<string> {
  if (password.length === 0) throw new UsageError('an empty password is not allowed');
  const keys = await listKeys(repo, o.signal ? { signal: o.signal } : {});
  if (keys.length >= MAX_KEY_FILES) throw new UsageError(`the repository already has ${keys.length} keys, the most that opening tries; remove one first`);
  throwIfAborted(o.signal);
  const meta: KeyFileMeta = {
    ...(o.username !== undefined ? { username: checkKeyMeta('the username', o.username) } : {}),
    ...(o.hostname !== undefined ? { hostname: checkKeyMeta('the hostname', o.hostname) } : {}),
  };
  return await repo.addKey(password, o.kdf, meta);
}

/**
 * Removes one key file. Refuses to remove the last key file that parses (nothing would open the repository any
 * more; not even `force` overrides this) and the key in use unless `force`. Damaged key files can always be removed.
 * Returns the removed key's full id.
 */
export async function removeKey(repo: KeyRepo, ref: string, o: { force?: boolean; signal?: AbortSignal } = {}): Promise<string> {
  repo.assertMayDelete('key remove');
  const keys = await listKeys(repo, o.signal ? { signal: o.signal } : {});
  const k = resolveKey(keys, ref);
  if (k.file) {
    const usable = keys.filter((x) => x.file !== undefined).length;
    if (usable <= 1) throw new UsageError(`refusing to remove key ${k.id.slice(0, 8)}: it is the last key, and without it the repository cannot be opened`);
    if (k.current && !o.force) {
      throw new UsageError(`refusing to remove key ${k.id.slice(0, 8)}: it is the key in use (opened with this password); use --force to remove it anyway`);
    }
  }
  throwIfAborted(o.signal);
  await repo.backend.remove({ type: 'key', name: k.id }, opts(o.signal));
  return k.id;
}

/**
 * Changes the password of the key in use: writes the new key file first, then removes the old one. A crash (or
 * Ctrl-C) between the two leaves both key files, so both passwords still open the repository; `key list` shows the
 * leftover and `key remove` retires it. Returns both ids.
 */
export async function changePassword(
  repo: KeyRepo & Pick<Repository, 'addKey'>,
  password: string,
  o: NewKeyOptions = {},
): Promise<{ added: string; removed: string }> {
  repo.assertMayDelete('key passwd (it removes the old key file)');
  const added = await addKey(repo, password, o);
  await repo.backend.remove({ type: 'key', name: repo.keyName }); // no signal: once the new key exists, finish
  return { added, removed: repo.keyName };
}

/** The KDF parameters worth showing (the salt is not). */
export function kdfSummary(k: KeyFile): Omit<KdfParams, 'salt'> {
  return { algorithm: k.kdf.algorithm, memory: k.kdf.memory, passes: k.kdf.passes, parallelism: k.kdf.parallelism };
}
