import { IntegrityError } from '../errors.ts';
import { MAX_PACK_BLOBS, type PackBlob } from './pack-format.ts';

/**
 * Index file plaintext (then framed with payload.ts, zstd, and sealed):
 *   "PBI1" | u32 packCount | per pack: packId(32) | u32 blobCount | per blob: type(1) | offset u32 | length u32 |
 *   rawLength u32 | id(32)
 * An index file lists whole packs; a pack appears in exactly one index file (until repair/prune rewrites them).
 */
const MAGIC = Buffer.from('PBI1');
const BLOB_BYTES = 1 + 12 + 32;

export interface IndexedPack {
  readonly id: string;
  readonly blobs: readonly PackBlob[];
}

export function encodeIndex(packs: readonly IndexedPack[]): Buffer {
  let size = 8;
  for (const p of packs) size += 36 + p.blobs.length * BLOB_BYTES;
  const out = Buffer.allocUnsafe(size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(packs.length, 4);
  let o = 8;
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
  return out;
}

/** Streams the packs of an index file; validates every count against the remaining bytes before trusting it. */
export function* decodeIndex(data: Buffer): Generator<IndexedPack> {
  if (data.length < 8 || !data.subarray(0, 4).equals(MAGIC)) throw new IntegrityError('index file magic mismatch');
  const n = data.readUInt32LE(4);
  let o = 8;
  for (let i = 0; i < n; i++) {
    if (o + 36 > data.length) throw new IntegrityError('index file is truncated');
    const id = data.toString('hex', o, o + 32);
    const count = data.readUInt32LE(o + 32);
    o += 36;
    if (count > MAX_PACK_BLOBS || o + count * BLOB_BYTES > data.length) throw new IntegrityError('index file has an impossible blob count');
    const blobs: PackBlob[] = Array.from({ length: count });
    for (let j = 0; j < count; j++) {
      const t = data[o];
      if (t !== 0 && t !== 1) throw new IntegrityError('index file has an unknown blob type');
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
  if (o !== data.length) throw new IntegrityError('index file has trailing bytes');
}

