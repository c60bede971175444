import type { Sealer } from '../crypto/aead.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { IntegrityError } from '../errors.ts';
import { decodePayload } from './payload.ts';

/**
 * Decrypts one blob box, decompresses it, and checks it hashes to `id` (so a swapped or stale blob is caught).
 * With `scratch` (at least `rawLength` bytes) a compressed blob is decoded into it: the result may then be a view of
 * `scratch`, valid until the caller reuses it. With `decrypted`, the box is decrypted into that buffer (see
 * Sealer.openInto): an uncompressed blob's result is then a view of it.
 */
export function openBlob(box: Uint8Array, sealer: Sealer, idKey: Uint8Array, id: Uint8Array, rawLength: number, scratch?: Buffer, decrypted?: { buf: Buffer }): Buffer {
  const plain = decodePayload(decrypted ? sealer.openInto(box, decrypted) : sealer.open(box), rawLength, scratch);
  if (plain.length !== rawLength) {
    throw new IntegrityError(`blob ${Buffer.from(id).toString('hex')} has length ${plain.length}, index says ${rawLength}`);
  }
  if (!blobIdOf(idKey, plain).equals(id)) {
    throw new IntegrityError(`blob ${Buffer.from(id).toString('hex')} does not match its id`);
  }
  return plain;
}
