import zlib, { zstdCompressSync, zstdDecompressSync, constants as z } from 'node:zlib';
import { IntegrityError } from '../errors.ts';

/**
 * zstd with one long-lived context per thread and level. Node's *Sync helpers build and free a zstd context on every
 * call (~25 µs, which dominated backups of small files); here each call ends a frame with ZSTD_e_end on the same
 * context, which then starts the next frame afresh. Frames are plain zstd frames either way. Uses the stream's
 * native handle (the same calls Node's sync helpers make); falls back to the helpers if that handle is missing.
 */
interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number, code: string) => void;
}
interface Engine {
  readonly handle: NativeHandle;
  /** [availOutAfter, availInAfter] */
  readonly state: Uint32Array;
  error: Error | undefined;
}

/* oxlint-disable no-underscore-dangle, unicorn/prefer-add-event-listener -- Node's zlib stream internals, on purpose */
function engineOf(stream: zlib.ZstdCompress | zlib.ZstdDecompress): Engine | undefined {
  const s = stream as unknown as { _handle?: NativeHandle; _writeState?: Uint32Array };
  if (!s._handle || typeof s._handle.writeSync !== 'function' || !(s._writeState instanceof Uint32Array)) return undefined;
  const e: Engine = { handle: s._handle, state: s._writeState, error: undefined };
  // Errors arrive synchronously through the handle's onerror; taking it over keeps the stream from destroying
  // (and freeing) the context, so a bad frame costs one reset, not a crash or a new context.
  s._handle.onerror = (message: string, _errno: number, code: string) => {
    e.error = new Error(`${message} (${code})`);
  };
  return e;
}
/* oxlint-enable no-underscore-dangle, unicorn/prefer-add-event-listener */

const encoders = new Map<number, Engine | null>();
let decoder: Engine | null | undefined;

function encoder(level: number): Engine | undefined {
  let e = encoders.get(level);
  if (e === undefined) {
    e = engineOf(zlib.createZstdCompress({ params: { [z.ZSTD_c_compressionLevel]: level, [z.ZSTD_c_checksumFlag]: 0 } })) ?? null;
    encoders.set(level, e);
  }
  return e ?? undefined;
}

/**
 * Compresses `input` into `scratch` (when big enough) or a new buffer, after `prefix` bytes of room (for the caller's
 * framing); the result is a view of that buffer.
 * Returns undefined when the result would not be smaller than `limit` bytes (then compression does not pay).
 */
export function zstdCompressInto(input: Uint8Array, level: number, prefix: number, limit: number, scratch?: Buffer): Buffer | undefined {
  const e = encoder(level);
  if (!e) {
    const c = zstdCompressSync(input, { params: { [z.ZSTD_c_compressionLevel]: level, [z.ZSTD_c_checksumFlag]: 0 } });
    if (c.length >= limit) return undefined;
    const out = Buffer.allocUnsafe(prefix + c.length);
    c.copy(out, prefix);
    return out;
  }
  const room = Math.max(0, limit - 1);
  const out = scratch && scratch.length >= prefix + room ? scratch : Buffer.allocUnsafe(prefix + room);
  e.error = undefined;
  e.handle.writeSync(z.ZSTD_e_end, input, 0, input.length, out, prefix, room);
  const [availOut = 0, availIn = 0] = e.state;
  if (e.error || availIn !== 0 || availOut === 0) {
    // did not fit under the limit: drop the unfinished frame
    e.handle.reset();
    return undefined;
  }
  return out.subarray(0, prefix + room - availOut);
}

/**
 * Decompresses one zstd frame whose decompressed size is known exactly. With `scratch` (at least `rawLength` bytes)
 * the result is a view of it, valid until the caller reuses it: no allocation per frame.
 */
export function zstdDecompressExact(frame: Uint8Array, rawLength: number, scratch?: Buffer): Buffer {
  if (decoder === undefined) decoder = engineOf(zlib.createZstdDecompress()) ?? null;
  const d = decoder;
  if (!d) {
    try {
      return zstdDecompressSync(frame, { maxOutputLength: Math.max(1, rawLength) });
    } catch (e) {
      throw new IntegrityError('zstd frame is corrupt', { cause: e });
    }
  }
  const out = scratch && scratch.length >= rawLength ? scratch.subarray(0, rawLength) : Buffer.allocUnsafe(rawLength);
  d.error = undefined;
  d.handle.writeSync(z.ZSTD_e_end, frame, 0, frame.length, out, 0, rawLength);
  const [availOut = 0, availIn = 0] = d.state;
  if (d.error || availIn !== 0 || availOut !== 0) {
    const cause = d.error;
    d.handle.reset();
    throw new IntegrityError(`zstd frame is corrupt or not ${rawLength} bytes long`, cause ? { cause } : undefined);
  }
  d.handle.reset(); // cheap; guarantees the next frame starts from a clean state
  return out;
}
