import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';
import { InternalError } from '../errors.ts';

/** Where archive bytes go; resolves when the consumer has taken them (backpressure). */
export type ByteSink = (chunk: Buffer) => Promise<void>;

export interface ZipEntry {
  /** raw relative path; a directory's ends with "/" */
  readonly name: Buffer;
  /** st_mode with the file type bits (S_IFREG, S_IFDIR, S_IFLNK) */
  readonly mode: number;
  readonly mtimeNs: bigint;
  readonly uid: number;
  readonly gid: number;
}

const U32 = 0xffffffff;
/** Entries at least this large get zip64 sizes up front (deflate may grow incompressible data a little). */
const ZIP64_AT = 0xf0000000;
const MADE_BY = (3 << 8) | 63; // Unix, spec 6.3
const STRICT = new TextDecoder('utf-8', { fatal: true });

/**
 * A streaming zip writer: local header, data (stored or raw deflate), data descriptor per entry, then the central
 * directory. Nothing is seeked or buffered beyond one chunk: sizes and CRC go in the data descriptor (flag bit 3).
 * zip64 records are used for entries ≥ 3.75 GiB, offsets past 4 GiB and more than 65,535 entries. Unix mode, uid/gid
 * (extra 0x7875) and the mtime in seconds (extra 0x5455) are kept. The central directory is held in memory
 * (~100 bytes per entry) until `finish`.
 */
export class ZipWriter {
  readonly #sink: ByteSink;
  readonly #level: number;
  readonly #zip64At: number;
  #offset = 0;
  #central: Buffer[] = [];
  #count = 0;

  /** `zip64At` lowers the zip64 threshold (tests use it to exercise zip64 records without 4 GiB of data). */
  constructor(sink: ByteSink, o: { level?: number; zip64At?: number } = {}) {
    this.#sink = sink;
    this.#level = o.level ?? 6;
    this.#zip64At = o.zip64At ?? ZIP64_AT;
  }

  async #write(b: Buffer): Promise<void> {
    if (b.length === 0) return;
    this.#offset += b.length;
    await this.#sink(b);
  }

  /** A directory, symlink (content = target) or file. `size` is the content's length, known ahead. */
  async add(e: ZipEntry, size: number, content: AsyncIterable<Buffer> | Buffer, o: { compress?: 'auto' | 'store' | 'deflate' } = {}): Promise<void> {
    const offset = this.#offset;
    const zip64 = size >= this.#zip64At;
    const it = Buffer.isBuffer(content) ? [content][Symbol.iterator]() : content[Symbol.asyncIterator]();
    let first = await it.next();
    const mode = o.compress ?? 'auto';
    const deflate = size > 0 && (mode === 'deflate' || (mode === 'auto' && !first.done && compressible(first.value)));
    const flags = 0x08 | (isUtf8(e.name) ? 0x800 : 0);
    const { time, date } = dosTime(e.mtimeNs);
    const extras = (central: boolean, c64?: Buffer): Buffer => Buffer.concat([...(c64 ? [c64] : []), timeExtra(e.mtimeNs), ownerExtra(e.uid, e.gid), ...(zip64 && !central ? [zip64Extra([0n, 0n])] : [])]);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(zip64 ? U32 : 0, 18);
    local.writeUInt32LE(zip64 ? U32 : 0, 22);
    const lx = extras(false);
    local.writeUInt16LE(e.name.length, 26);
    local.writeUInt16LE(lx.length, 28);
    await this.#write(Buffer.concat([local, e.name, lx]));

    let crc = 0;
    let raw = 0;
    let packed = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      while (!first.done) {
        const b = first.value;
        crc = crc32(b, crc);
        raw += b.length;
        yield b;
        first = await it.next();
      }
    }
    if (deflate) {
      const write = async (src: AsyncIterable<Buffer>): Promise<void> => {
        for await (const out of src) {
          packed += out.length;
          await this.#write(out);
        }
      };
      await pipeline(Readable.from(counted()), createDeflateRaw({ level: this.#level }), write);
    } else {
      for await (const b of counted()) {
        packed += b.length;
        await this.#write(b);
      }
    }
    if (raw !== size) throw new InternalError(`zip entry ${e.name.toString()}: ${raw} bytes written, ${size} announced`);
    if (!zip64 && (raw >= U32 || packed >= U32)) throw new InternalError('zip entry outgrew its 32-bit sizes');
    const dd = Buffer.alloc(zip64 ? 24 : 16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      dd.writeBigUInt64LE(BigInt(packed), 8);
      dd.writeBigUInt64LE(BigInt(raw), 16);
    } else {
      dd.writeUInt32LE(packed, 8);
      dd.writeUInt32LE(raw, 12);
    }
    await this.#write(dd);

    const big = zip64 || offset >= U32;
    const c64 = big ? zip64Extra([BigInt(raw), BigInt(packed), BigInt(offset)]) : undefined;
    const cx = extras(true, c64);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(MADE_BY, 4);
    c.writeUInt16LE(big ? 45 : 20, 6);
    c.writeUInt16LE(flags, 8);
    c.writeUInt16LE(deflate ? 8 : 0, 10);
    c.writeUInt16LE(time, 12);
    c.writeUInt16LE(date, 14);
    c.writeUInt32LE(crc >>> 0, 16);
    c.writeUInt32LE(big ? U32 : packed, 20);
    c.writeUInt32LE(big ? U32 : raw, 24);
    c.writeUInt16LE(e.name.length, 28);
    c.writeUInt16LE(cx.length, 30);
    const isDir = (e.mode & 0o170000) === 0o040000;
    c.writeUInt32LE((((e.mode & 0xffff) << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
    c.writeUInt32LE(big ? U32 : offset, 42);
    this.#central.push(Buffer.concat([c, e.name, cx]));
    this.#count++;
  }

  /** Writes the central directory and its end records. */
  async finish(): Promise<void> {
    const cdOffset = this.#offset;
    for (const c of this.#central) await this.#write(c);
    this.#central = [];
    const cdSize = this.#offset - cdOffset;
    const n = this.#count;
    if (n > 0xffff || cdOffset >= U32 || cdSize >= U32) {
      const at = this.#offset;
      const r = Buffer.alloc(56);
      r.writeUInt32LE(0x06064b50, 0);
      r.writeBigUInt64LE(44n, 4);
      r.writeUInt16LE(MADE_BY, 12);
      r.writeUInt16LE(45, 14);
      r.writeBigUInt64LE(BigInt(n), 24);
      r.writeBigUInt64LE(BigInt(n), 32);
      r.writeBigUInt64LE(BigInt(cdSize), 40);
      r.writeBigUInt64LE(BigInt(cdOffset), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(at), 8);
      loc.writeUInt32LE(1, 16);
      await this.#write(Buffer.concat([r, loc]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(n, 0xffff), 8);
    end.writeUInt16LE(Math.min(n, 0xffff), 10);
    end.writeUInt32LE(Math.min(cdSize, U32), 12);
    end.writeUInt32LE(Math.min(cdOffset, U32), 16);
    await this.#write(end);
  }
}

/** Deflate pays off when level 1 shrinks a 64 KiB sample below 97%. */
function compressible(head: Buffer): boolean {
  const s = head.subarray(0, 64 << 10);
  if (s.length === 0) return false;
  return deflateRawSync(s, { level: 1 }).length < s.length * 0.97;
}

function isUtf8(b: Uint8Array): boolean {
  try {
    STRICT.decode(b);
    return true;
  } catch {
    return false;
  }
}

function zip64Extra(values: readonly bigint[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  for (const [i, v] of values.entries()) b.writeBigUInt64LE(v, 4 + 8 * i);
  return b;
}

/** Extended timestamp (0x5455): mtime in whole seconds, when it fits 32 signed bits. */
function timeExtra(ns: bigint): Buffer {
  const sec = Number(ns / 1_000_000_000n);
  if (sec < -0x80000000 || sec > 0x7fffffff) return Buffer.alloc(0);
  const b = Buffer.alloc(9);
  b.writeUInt16LE(0x5455, 0);
  b.writeUInt16LE(5, 2);
  b.writeUInt8(1, 4);
  b.writeInt32LE(sec, 5);
  return b;
}

/** Info-ZIP Unix uid/gid (0x7875), 4 bytes each. */
function ownerExtra(uid: number, gid: number): Buffer {
  const b = Buffer.alloc(15);
  b.writeUInt16LE(0x7875, 0);
  b.writeUInt16LE(11, 2);
  b.writeUInt8(1, 4);
  b.writeUInt8(4, 5);
  b.writeUInt32LE(uid >>> 0, 6);
  b.writeUInt8(4, 10);
  b.writeUInt32LE(gid >>> 0, 11);
  return b;
}

/** MS-DOS date and time (local time, 2-second steps), clamped to 1980–2107. */
function dosTime(ns: bigint): { time: number; date: number } {
  const d = new Date(Number(ns / 1_000_000n));
  const y = d.getFullYear();
  if (Number.isNaN(y) || y < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (y > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return { time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1), date: ((y - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate() };
}
