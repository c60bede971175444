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

/** Derives the 32-byte key-encryption key from a password. Parameters come from an untrusted key file: bound them. */
export async function deriveKek(password: string, p: KdfParams): Promise<Buffer> {
  if (p.algorithm !== 'argon2id') throw new InvalidInputError(`unsupported KDF ${String(p.algorithm)}`);
  const salt = Buffer.from(p.salt, 'base64');
  if (salt.length < 16 || salt.length > 64) throw new InvalidInputError('key file KDF salt has an invalid length');
  const ok = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (!ok(p.memory, 8 * 1024, 4 * 1024 * 1024) || !ok(p.passes, 1, 64) || !ok(p.parallelism, 1, 64)) {
    throw new InvalidInputError('key file KDF parameters are out of range');
  }
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
