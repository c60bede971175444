import { argon2 } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';

export interface KdfParams {
  readonly algorithm: 'argon2id';
  /** KiB */
  readonly memory: number;
  readonly passes: number;
  readonly parallelism: number;
  /** base64, 16+ bytes */
  readonly salt: string;
}

export const DEFAULT_KDF = { memory: 64 * 1024, passes: 3, parallelism: 2 } as const;

/** Derivations started ahead of need (deriveKekEarly), each taken by the first deriveKek for the same input. */
const early: { password: string; params: string; kek: Promise<Buffer> }[] = [];

const paramsKey = (p: KdfParams): string => JSON.stringify([p.algorithm, p.memory, p.passes, p.parallelism, p.salt]);

/**
 * Starts a derivation that deriveKek will probably be asked for soon: the CLI starts the key file's Argon2id (about
 * 0.2 s on a libuv thread) while the command's code is still loading. A later deriveKek with the same password and
 * parameters takes the result; one that never comes costs only the derivation. Bad parameters are ignored here
 * (deriveKek reports them).
 */
export function deriveKekEarly(password: string, p: KdfParams): void {
  try {
    const salt = checked(p);
    const kek = argon2id(password, salt, p);
    kek.catch(() => {});
    early.push({ password, params: paramsKey(p), kek });
  } catch {
    // deriveKek will say what is wrong
  }
}

/** Derivations started early and not (yet) taken: for tests. */
export function pendingEarlyDerivations(): number {
  return early.length;
}

/** Derives the 32-byte key-encryption key from a password. Parameters come from an untrusted key file: bound them. */
export async function deriveKek(password: string, p: KdfParams): Promise<Buffer> {
  const salt = checked(p);
  const key = paramsKey(p);
  const i = early.findIndex((e) => e.password === password && e.params === key);
  if (i >= 0) return await early.splice(i, 1)[0]!.kek;
  return await argon2id(password, salt, p);
}

function checked(p: KdfParams): Buffer {
  if (p.algorithm !== 'argon2id') throw new InvalidInputError(`unsupported KDF ${String(p.algorithm)}`);
  const salt = Buffer.from(p.salt, 'base64');
  if (salt.length < 16 || salt.length > 64) throw new InvalidInputError('key file KDF salt has an invalid length');
  const ok = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!ok(p.memory, 8 * 1024, 4 * 1024 * 1024) || !ok(p.passes, 1, 64) || !ok(p.parallelism, 1, 64)) {
    throw new InvalidInputError('key file KDF parameters are out of range');
  }
  return salt;
}

async function argon2id(password: string, salt: Buffer, p: KdfParams): Promise<Buffer> {
  return await new Promise<Buffer>((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(password, 'utf8'),
        nonce: salt,
        parallelism: p.parallelism,
        tagLength: 32,
        memory: p.memory,
        passes: p.passes,
      },
      (err, key) => (err ? reject(err) : resolve(Buffer.from(key))),
    );
  });
}
