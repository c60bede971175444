import { type Backend, NotFoundError, RepoNotFoundError } from '../backend/backend.ts';
import { Sealer } from '../crypto/aead.ts';
import type { MasterKey } from '../crypto/master-key.ts';
import { IntegrityError, PyBackupError, throwIfAborted } from '../errors.ts';
import { type RepoConfig, parseConfig } from './config.ts';
import { type KeyFile, WrongPasswordError, openKeyFile, parseKeyFile } from './keyfile.ts';
import { decodePayload, encodePayload } from './payload.ts';

/** The AAD of the sealed config file. */
export const CONFIG_AAD = Buffer.from('pybackup config');

export function sealConfig(sealer: Sealer, config: RepoConfig): Buffer {
  return sealer.seal(encodePayload(Buffer.from(JSON.stringify(config)), { level: 0 }), CONFIG_AAD);
}

/**
 * The first steps of opening a repository: load the config box (absent: REPO_NOT_FOUND), find a key file the
 * password opens, then decrypt and validate the config with that key.
 */
export async function openConfig(backend: Backend, password: string, signal?: AbortSignal): Promise<{ key: MasterKey; keyName: string; config: RepoConfig }> {
  let configBox: Uint8Array;
  try {
    configBox = await backend.load({ type: 'config', name: '' }, undefined, signal ? { signal } : undefined);
  } catch (e) {
    if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
    if (e instanceof NotFoundError) throw new RepoNotFoundError(`no repository found at ${backend.location} (run init first?)`, { cause: e });
    throw new PyBackupError('IO', `cannot open the repository at ${backend.location}: ${(e as Error).message}`, { cause: e });
  }
  const { key, name } = await unlock(backend, password, signal);
  let configText: string;
  try {
    configText = decodePayload(new Sealer(key.encrypt).open(configBox, CONFIG_AAD)).toString('utf8');
  } catch (e) {
    if (!(e instanceof IntegrityError)) throw e;
    // The key opened, so the config itself is damaged: nothing can be read without it.
    throw new IntegrityError(`the repository config at ${backend.location} is damaged (${e.message}); restore it from a copy of the repository`, { cause: e });
  }
  return { key, keyName: name, config: parseConfig(configText) };
}

/** Opening tries at most this many key files (a hostile repository could hold millions); `key add` stops there. */
export const MAX_KEY_FILES = 64;

/** Tries every key file (newest first would be a nicety; restic tries all). */
async function unlock(backend: Backend, password: string, signal?: AbortSignal): Promise<{ key: MasterKey; name: string }> {
  const names: string[] = [];
  for await (const f of backend.list('key', signal ? { signal } : undefined)) names.push(f.name);
  if (names.length === 0) throw new RepoNotFoundError(`repository at ${backend.location} has no keys`);
  let lastError: unknown;
  for (const name of names.slice(0, MAX_KEY_FILES)) {
    throwIfAborted(signal);
    let kf: KeyFile;
    try {
      kf = parseKeyFile(await backend.load({ type: 'key', name }));
      const key = await openKeyFile(kf, password);
      if (key) return { key, name };
    } catch (e) {
      lastError = e;
    }
  }
  throw new WrongPasswordError('wrong password or no key found', lastError ? { cause: lastError } : undefined);
}
