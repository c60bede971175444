import { zstdDecompressSync } from 'node:zlib';
import { IntegrityError } from '../errors.ts';
import { zstdCompressInto, zstdDecompressExact } from './zstd-codec.ts';

/**
 * Plaintext framing inside every sealed box: flag(1) | body.
 * flag 0 = body stored raw, 1 = body is a zstd frame. Compression is skipped when a sample shows it won't pay.
 */
export const RAW = 0;
export const ZSTD = 1;
const SAMPLE = 16 * 1024;
/** Compressed size must be below this fraction of the input to be kept. */
const MIN_GAIN = 0.97;
/** Upper bound on a decompressed body: blobs are at most 64 MiB, metadata files at most 1 GiB. */
const MAX_PLAIN = 1 << 30;

export interface CompressionSetting {
  /** 0 = off; 1..19 zstd levels */
  readonly level: number;
}

/** Returns flag|body in a buffer of its own (see encodePayloadParts for the rules). */
export function encodePayload(plain: Uint8Array, c: CompressionSetting): Buffer {
  const parts = encodePayloadParts(plain, c, { buf: EMPTY });
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

const FLAG_RAW = Buffer.from([RAW]);
const EMPTY = Buffer.alloc(0);

/**
 * The framing as parts, without copies: [flag byte, body] where body is `plain` itself when stored raw, or
 * [flag|zstd frame] as one view of `scratch` (grown as needed; valid until the next call) when compressed.
 * Cheap rejection: blobs over 64 KiB are sampled first, so incompressible data costs ~1% of a full pass; the frame is
 * kept only if it saves at least 3 %.
 */
export function encodePayloadParts(plain: Uint8Array, c: CompressionSetting, scratch: { buf: Buffer }): readonly Uint8Array[] {
  if (c.level > 0 && plain.length >= 64) {
    let worth = true;
    if (plain.length > 4 * SAMPLE) {
      const mid = plain.length >>> 1;
      const sample = plain.subarray(mid - SAMPLE / 2, mid + SAMPLE / 2);
      worth = zstdCompressInto(sample, 1, 0, Math.floor(sample.length * 0.95), scratch.buf) !== undefined;
    }
    if (worth) {
      const limit = Math.floor(plain.length * MIN_GAIN);
      if (scratch.buf.length < limit + 1) scratch.buf = Buffer.allocUnsafeSlow(Math.max(limit + 1, scratch.buf.length * 2));
      const out = zstdCompressInto(plain, c.level, 1, limit, scratch.buf);
      if (out) {
        out[0] = ZSTD;
        return [out];
      }
    }
  }
  return [FLAG_RAW, plain];
}

/**
 * `rawLength`, when known (blobs), lets zstd decode into an exact buffer on a reused context; with `scratch` too, a
 * compressed body is decoded into it (the result is then a view of `scratch`, valid until it is reused).
 */
export function decodePayload(payload: Uint8Array, rawLength?: number, scratch?: Buffer): Buffer {
  if (payload.length < 1) throw new IntegrityError('empty payload');
  const body = Buffer.from(payload.buffer, payload.byteOffset + 1, payload.byteLength - 1);
  if (payload[0] === RAW) return body;
  if (payload[0] === ZSTD) {
    if (rawLength !== undefined) return zstdDecompressExact(body, rawLength, scratch);
    try {
      return zstdDecompressSync(body, { maxOutputLength: MAX_PLAIN });
    } catch (e) {
      throw new IntegrityError('zstd frame is corrupt', { cause: e });
    }
  }
  throw new IntegrityError(`unknown payload flag ${payload[0]}`);
}
