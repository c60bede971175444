import { createHmac, randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.ts';

/**
 * The repository master key: three independent 32-byte secrets.
 * - encrypt: AES-256-GCM master key (session keys are derived from it)
 * - id: HMAC-SHA256 key for blob ids (keyed hash of the plaintext)
 * - chunker: seed of the FastCDC gear table
 */
export interface MasterKey {
  readonly encrypt: Buffer;
  readonly id: Buffer;
  readonly chunker: Buffer;
}

export function newMasterKey(): MasterKey {
  return { encrypt: randomBytes(32), id: randomBytes(32), chunker: randomBytes(32) };
}

export function masterKeyToJson(k: MasterKey): string {
  return JSON.stringify({
    encrypt: k.encrypt.toString('base64'),
    id: k.id.toString('base64'),
    chunker: k.chunker.toString('base64'),
  });
}

export function masterKeyFromJson(text: string): MasterKey {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError('master key is not valid JSON', { cause: e });
  }
  const get = (name: string): Buffer => {
    const v = (o as Record<string, unknown> | null)?.[name];
    if (typeof v !== 'string') throw new InvalidInputError(`master key lacks "${name}"`);
    const b = Buffer.from(v, 'base64');
    if (b.length !== 32) throw new InvalidInputError(`master key "${name}" must be 32 bytes`);
    return b;
  };
  return { encrypt: get('encrypt'), id: get('id'), chunker: get('chunker') };
}

/** Blob id: HMAC-SHA256(id key, plaintext). 32 bytes. */
export function blobIdOf(idKey: Uint8Array, plain: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(plain).digest();
}
