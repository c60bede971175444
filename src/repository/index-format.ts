import { IntegrityError } from '../errors.ts';
import { MAX_PACK_BLOBS, type PackBlob } from './pack-format.ts';

/**
 * Index file plaintext (then framed with payload.ts, zstd, and sealed):
 *   "PBI1" | u32 packCount | per pack: packId(32) | u32 blobCount | per blob: type(1) | offset u32 | length u32 |
 *   rawLength u32 | id(32)
 * An index file lists whole packs; a pack appears in exactly one index file (until repair/prune rewrites them).
 * Mark files (mark-format.ts) reuse the pack list after their own header.
 */
const MAGIC = Buffer.from('PBI1');
const BLOB_BYTES = 1 + 12 + 32;

export interface IndexedPack {
  readonly id: string;
  readonly blobs: readonly PackBlob[];
}

/** Bytes `u32 packCount | packs` take. */
export function packListSize(packs: readonly IndexedPack[]): number {
  let size = 4;
  for (const p of packs) size += 36 + p.blobs.length * BLOB_BYTES;
  return size;
}

/** Writes `u32 packCount | packs` at `o`; returns the offset after it. */
export function writePackList(out: Buffer, o: number, packs: readonly IndexedPack[]): number {
  out.writeUInt32LE(packs.length, o);
  o += 4;
  for (const p of packs) {
    o += out.write(p.id, o, 'hex');
    out.writeUInt32LE(p.blobs.length, o);
    o += 4;
    for (const b of p.blobs) {
      out[o] = b.type === 'tree' ? 1 : 0;
      out.writeUInt32LE(b.offset, o + 1);
      out.writeUInt32LE(b.length, o + 5);
      out.writeUInt32LE(b.rawLength, o + 9);
      b.id.copy(out, o + 13);
      o += BLOB_BYTES;
    }
  }
  return o;
}

export function encodeIndex(packs: readonly IndexedPack[]): Buffer {
  const out = Buffer.allocUnsafe(4 + packListSize(packs));
  MAGIC.copy(out, 0);
  writePackList(out, 4, packs);
  return out;
}

/**
 * Streams `u32 packCount | packs` from `start` to the end of `data` (`what` names the file kind in errors); validates
 * every count against the remaining bytes before trusting it and rejects trailing bytes.
 */
export function* readPackList(data: Buffer, start: number, what: string): Generator<IndexedPack> {
  if (start + 4 > data.length) throw new IntegrityError(`${what} is truncated`);
  const n = data.readUInt32LE(start);
  let o = start + 4;
  for (let i = 0; i < n; i++) {
    if (o + 36 > data.length) throw new IntegrityError(`${what} is truncated`);
    const id = data.toString('hex', o, o + 32);
    const count = data.readUInt32LE(o + 32);
    o += 36;
    if (count > MAX_PACK_BLOBS || o + count * BLOB_BYTES > data.length) throw new IntegrityError(`${what} has an impossible blob count`);
    const blobs: PackBlob[] = Array.from({ length: count });
    for (let j = 0; j < count; j++) {
      const t = data[o];
      if (t !== 0 && t !== 1) throw new IntegrityError(`${what} has an unknown blob type`);
      blobs[j] = {
        type: t === 1 ? 'tree' : 'data',
        offset: data.readUInt32LE(o + 1),
        length: data.readUInt32LE(o + 5),
        rawLength: data.readUInt32LE(o + 9),
        id: Buffer.from(data.subarray(o + 13, o + 45)),
      };
      o += BLOB_BYTES;
    }
    yield { id, blobs };
  }
  if (o !== data.length) throw new IntegrityError(`${what} has trailing bytes`);
}

/** Whether a decrypted file of the index directory is an index file (by its magic). */
export function isIndexFile(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(0, 4).equals(MAGIC);
}

/** Streams the packs of an index file; validates every count against the remaining bytes before trusting it. */
export function* decodeIndex(data: Buffer): Generator<IndexedPack> {
  if (data.length < 8 || !isIndexFile(data)) throw new IntegrityError('index file magic mismatch');
  yield* readPackList(data, 4, 'index file');
}
