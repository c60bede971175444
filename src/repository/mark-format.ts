import { IntegrityError } from '../errors.ts';
import { type IndexedPack, decodeIndex, isIndexFile, packListSize, readPackList, writePackList } from './index-format.ts';

/**
 * Mark file plaintext (docs/design.md §7, §14e). Stored in the index directory and sealed like an index file (AAD
 * "pybackup index"), so REST servers accept it; readers tell the two apart by the magic:
 *   "PBM1" | u64 time (ms since the epoch) | u32 markedCount | markedCount pack ids (32 each) |
 *   restated: u32 packCount | per pack as in an index file (pack id | u32 blobCount | blobs)
 * A mark dooms the packs it lists: `prune` deletes them once no backup that started before `time` (plus a margin)
 * can still be running, unless a snapshot then uses one of their blobs that has no other live location. The
 * restated entries give a live location (a repacked copy, or a copy in a pack that is kept) for blobs of the marked
 * packs, so that catalogs keep deduplicating against those blobs.
 */
const MAGIC = Buffer.from('PBM1');

export interface Mark {
  /** when the mark was written (ms since the epoch, the marking host's clock) */
  readonly time: number;
  /** the doomed packs */
  readonly packs: readonly string[];
  /** live locations of blobs that sit in the doomed packs */
  readonly restated: readonly IndexedPack[];
}

export function encodeMark(m: Mark): Buffer {
  const out = Buffer.allocUnsafe(4 + 8 + 4 + m.packs.length * 32 + packListSize(m.restated));
  MAGIC.copy(out, 0);
  out.writeBigUInt64LE(BigInt(m.time), 4);
  out.writeUInt32LE(m.packs.length, 12);
  let o = 16;
  for (const p of m.packs) o += out.write(p, o, 'hex');
  writePackList(out, o, m.restated);
  return out;
}

export function isMarkFile(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(0, 4).equals(MAGIC);
}

/** Decodes a mark; validates every count against the remaining bytes before trusting it, rejects trailing bytes. */
export function decodeMark(data: Buffer): Mark {
  if (data.length < 16 || !isMarkFile(data)) throw new IntegrityError('mark file magic mismatch');
  const time = data.readBigUInt64LE(4);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new IntegrityError('mark file has an impossible time');
  const n = data.readUInt32LE(12);
  if (16 + n * 32 > data.length) throw new IntegrityError('mark file has an impossible pack count');
  const packs: string[] = Array.from({ length: n });
  for (let i = 0; i < n; i++) packs[i] = data.toString('hex', 16 + i * 32, 48 + i * 32);
  const restated = [...readPackList(data, 16 + n * 32, 'mark file')];
  return { time: Number(time), packs, restated };
}

/** A decrypted file of the index directory: an index file or a mark file. */
export type IndexDirFile = { readonly kind: 'index'; readonly packs: IndexedPack[] } | { readonly kind: 'mark'; readonly mark: Mark };

export function decodeIndexDirFile(data: Buffer): IndexDirFile {
  if (isMarkFile(data)) return { kind: 'mark', mark: decodeMark(data) };
  if (!isIndexFile(data)) throw new IntegrityError('index file magic mismatch');
  return { kind: 'index', packs: [...decodeIndex(data)] };
}
