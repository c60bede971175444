import { createHash } from 'node:crypto';
import type { Sealer } from '../crypto/aead.ts';
import { SEAL_OVERHEAD } from '../crypto/aead.ts';
import { IntegrityError } from '../errors.ts';
import { decodePayload, encodePayload } from './payload.ts';

/**
 * Pack file (docs/design.md "Packs"):
 *   blob box* | header box | header box length (u32 LE)
 * Header plaintext (inside the framing of payload.ts, never compressed): "PBP1" then one 41-byte entry per blob:
 *   type(1: 0 data, 1 tree) | length(u32 LE, stored box bytes) | rawLength(u32 LE, plaintext bytes) | id(32)
 * Blob offsets are implicit: the running sum of lengths from 0.
 */
export const BLOB_TYPES = ['data', 'tree'] as const;
export type BlobType = (typeof BLOB_TYPES)[number];
export const HEADER_MAGIC = Buffer.from('PBP1');
export const ENTRY_BYTES = 41;
export const HEADER_AAD = Buffer.from('pybackup pack header');
/** A pack holds at most this many blobs; a header claiming more is corrupt. */
export const MAX_PACK_BLOBS = 1 << 20;

export interface PackBlob {
  readonly id: Buffer;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export interface FinishedPack {
  readonly id: string;
  readonly data: Buffer;
  readonly blobs: PackBlob[];
}

/**
 * Assembles one pack at a time in a single buffer: blobs are sealed straight into it and `finish()` appends the
 * header. The returned `data` is a view of that buffer; the builder then starts over in `next` (a recycled buffer,
 * e.g. one a pack store handed back) or a new one. Not thread-safe; one per writer.
 */
export class PackBuilder {
  readonly #sealer: Sealer;
  readonly #capacity: number;
  #buf: Buffer;
  #blobs: PackBlob[] = [];
  #size = 0;

  /** `capacity`: the usual final pack size (target size + largest blob); buffers grow when needed. */
  constructor(sealer: Sealer, capacity = 1 << 20) {
    this.#sealer = sealer;
    this.#capacity = capacity;
    this.#buf = Buffer.allocUnsafeSlow(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#blobs.length;
  }

  #ensure(extra: number): void {
    if (this.#size + extra <= this.#buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#size + extra));
    this.#buf.copy(grown, 0, 0, this.#size);
    this.#buf = grown;
  }

  /** `payload` is the framed plaintext (flag|body) from encodePayload, or its parts from encodePayloadParts. */
  addPayload(id: Buffer, type: BlobType, payload: Uint8Array | readonly Uint8Array[], rawLength: number): PackBlob {
    const size = payload instanceof Uint8Array ? payload.length : payload.reduce((a, p) => a + p.length, 0);
    this.#ensure(size + SEAL_OVERHEAD);
    const length = this.#sealer.sealInto(payload, this.#buf, this.#size);
    const entry: PackBlob = { id, type, offset: this.#size, length, rawLength };
    this.#blobs.push(entry);
    this.#size += length;
    return entry;
  }

  /** Seals the header; returns the pack. Its `data` shares this builder's buffer until the next pack starts. */
  finish(next?: Buffer): FinishedPack {
    const framed = encodePackHeader(this.#blobs);
    this.#ensure(framed.length + SEAL_OVERHEAD + 4);
    const hlen = this.#sealer.sealInto(framed, this.#buf, this.#size, HEADER_AAD);
    this.#buf.writeUInt32LE(hlen, this.#size + hlen);
    const data = this.#buf.subarray(0, this.#size + hlen + 4);
    const id = createHash('sha256').update(data).digest('hex');
    const blobs = this.#blobs;
    this.#buf = next && next.length >= this.#capacity ? next : Buffer.allocUnsafeSlow(this.#capacity);
    this.#blobs = [];
    this.#size = 0;
    return { id, data, blobs };
  }
}

/** The framed (uncompressed) plaintext of a pack header for `blobs`, in pack order. */
export function encodePackHeader(blobs: readonly PackBlob[]): Buffer {
  const header = Buffer.allocUnsafe(HEADER_MAGIC.length + blobs.length * ENTRY_BYTES);
  HEADER_MAGIC.copy(header, 0);
  let p = HEADER_MAGIC.length;
  for (const b of blobs) {
    header[p] = b.type === 'tree' ? 1 : 0;
    header.writeUInt32LE(b.length, p + 1);
    header.writeUInt32LE(b.rawLength, p + 5);
    b.id.copy(header, p + 9);
    p += ENTRY_BYTES;
  }
  return encodePayload(header, { level: 0 });
}

/** Parses a decrypted header, checking every entry lies inside `blobArea` bytes. */
export function parsePackHeader(plain: Buffer, blobArea: number): PackBlob[] {
  if (plain.length < 4 || !plain.subarray(0, 4).equals(HEADER_MAGIC)) throw new IntegrityError('pack header magic mismatch');
  const n = (plain.length - 4) / ENTRY_BYTES;
  if (!Number.isInteger(n) || n > MAX_PACK_BLOBS) throw new IntegrityError('pack header has a bad length');
  const out: PackBlob[] = [];
  let offset = 0;
  for (let i = 0, p = 4; i < n; i++, p += ENTRY_BYTES) {
    const t = plain[p];
    if (t !== 0 && t !== 1) throw new IntegrityError(`pack header entry ${i} has unknown type ${t}`);
    const length = plain.readUInt32LE(p + 1);
    const rawLength = plain.readUInt32LE(p + 5);
    if (length < SEAL_OVERHEAD + 1 || offset + length > blobArea) throw new IntegrityError(`pack header entry ${i} is out of range`);
    out.push({ id: Buffer.from(plain.subarray(p + 9, p + 41)), type: t === 1 ? 'tree' : 'data', offset, length, rawLength });
    offset += length;
  }
  return out;
}

/** Size of a pack's trailer for `count` blobs: the sealed header (flag, magic, entries) and its u32 length. */
export function packTrailerSize(count: number): number {
  return SEAL_OVERHEAD + 1 + HEADER_MAGIC.length + count * ENTRY_BYTES + 4;
}

/** Reads the header of a whole pack held in memory (used by repair/check; normal reads go through the index). */
export function readPackHeader(pack: Buffer, sealer: Sealer): PackBlob[] {
  if (pack.length < 4) throw new IntegrityError('pack is truncated');
  const hlen = pack.readUInt32LE(pack.length - 4);
  if (hlen < SEAL_OVERHEAD || hlen > pack.length - 4) throw new IntegrityError('pack header length is out of range');
  const hstart = pack.length - 4 - hlen;
  const plain = decodePayload(sealer.open(pack.subarray(hstart, pack.length - 4), HEADER_AAD));
  return parsePackHeader(plain, hstart);
}
