import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { deriveKek, type KdfParams, DEFAULT_KDF } from '../crypto/kdf.ts';
import { type MasterKey, masterKeyFromJson, masterKeyToJson } from '../crypto/master-key.ts';
import { InvalidInputError, PyBackupError } from '../errors.ts';

/**
 * Key file (plaintext JSON at keys/<sha256>): the master key sealed with AES-256-GCM under a key derived from one
 * password with Argon2id. One file per password. Written with mode 0600.
 */
export interface KeyFile {
  version: 1;
  created: string;
  hostname: string;
  username: string;
  kdf: KdfParams;
  /** base64: nonce(12) | ciphertext | tag(16) of the master key JSON */
  data: string;
}

export class WrongPasswordError extends PyBackupError {
  constructor(message = 'wrong password or no key found', options?: { cause?: unknown }) {
    super('WRONG_PASSWORD', message, options);
  }
}

const AAD = Buffer.from('pybackup key file v1');

/** Who and where the key file says it was made; defaults to this user and host. */
export interface KeyFileMeta {
  readonly username?: string | undefined;
  readonly hostname?: string | undefined;
}

export async function makeKeyFile(
  password: string,
  master: MasterKey,
  kdf?: Partial<Omit<KdfParams, 'salt' | 'algorithm'>>,
  meta: KeyFileMeta = {},
): Promise<KeyFile> {
  const params: KdfParams = { algorithm: 'argon2id', ...DEFAULT_KDF, ...kdf, salt: randomBytes(16).toString('base64') };
  const kek = await deriveKek(password, params);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(AAD);
  const ct = Buffer.concat([c.update(masterKeyToJson(master)), c.final()]);
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: keep "unknown"
  }
  return {
    version: 1,
    created: new Date().toISOString(),
    hostname: meta.hostname ?? hostname(),
    username: meta.username ?? user,
    kdf: params,
    data: Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64'),
  };
}

export function parseKeyFile(bytes: Uint8Array): KeyFile {
  let o: KeyFile;
  try {
    o = JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyFile;
  } catch (e) {
    throw new InvalidInputError('key file is not valid JSON', { cause: e });
  }
  if (typeof o !== 'object' || o === null || o.version !== 1 || typeof o.data !== 'string' || typeof o.kdf !== 'object' || o.kdf === null) {
    throw new InvalidInputError('key file has an unknown format');
  }
  return o;
}

/** Returns the master key, or undefined when the password does not open this key file. */
export async function openKeyFile(k: KeyFile, password: string): Promise<MasterKey | undefined> {
  const kek = await deriveKek(password, k.kdf);
  const raw = Buffer.from(k.data, 'base64');
  if (raw.length < 12 + 16 + 2) throw new InvalidInputError('key file data is too short');
  const d = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
  d.setAAD(AAD);
  d.setAuthTag(raw.subarray(raw.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
  return masterKeyFromJson(plain.toString('utf8'));
}
