import type { Backend } from '../backend/backend.ts';
import { SEAL_OVERHEAD, type Sealer } from '../crypto/aead.ts';
import { IntegrityError } from '../errors.ts';
import { HEADER_AAD, type PackBlob, parsePackHeader } from './pack-format.ts';
import { decodePayload } from './payload.ts';

/**
 * Reads a stored pack's header with two small ranged loads (the u32 length at the end, then the sealed header),
 * without reading the blobs. Throws IntegrityError when the header is out of range or does not authenticate.
 */
export async function loadPackHeader(backend: Backend, sealer: Sealer, name: string, size: number, signal?: AbortSignal): Promise<PackBlob[]> {
  const opts = signal ? { signal } : undefined;
  if (size < 4 + SEAL_OVERHEAD) throw new IntegrityError(`pack ${name} is truncated (${size} bytes)`);
  const tail = Buffer.from(await backend.load({ type: 'pack', name }, { offset: size - 4, length: 4 }, opts));
  const hlen = tail.readUInt32LE(0);
  if (hlen < SEAL_OVERHEAD || hlen > size - 4) throw new IntegrityError(`pack ${name}: header length ${hlen} is out of range`);
  const box = await backend.load({ type: 'pack', name }, { offset: size - 4 - hlen, length: hlen }, opts);
  return parsePackHeader(decodePayload(sealer.open(box, HEADER_AAD)), size - 4 - hlen);
}
