import type { Sealer } from '../crypto/aead.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { IntegrityError } from '../errors.ts';
import { decodePayload } from './payload.ts';

/** Decrypts one blob box, decompresses it, and checks it hashes to `id` (so a swapped or stale blob is caught). */
export function openBlob(box: Uint8Array, sealer: Sealer, idKey: Uint8Array, id: Uint8Array, rawLength: number): Buffer {
  const plain = decodePayload(sealer.open(box), rawLength);
  if (plain.length !== rawLength) {
    throw new IntegrityError(`blob ${Buffer.from(id).toString('hex')} has length ${plain.length}, index says ${rawLength}`);
  }
  if (!blobIdOf(idKey, plain).equals(id)) {
    throw new IntegrityError(`blob ${Buffer.from(id).toString('hex')} does not match its id`);
  }
  return plain;
}
