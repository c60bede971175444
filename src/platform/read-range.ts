import { closeSync, constants as C, openSync, readSync } from 'node:fs';

const MIB = 1 << 20;

/**
 * Reads `length` bytes at `offset` of a local file into `into.buf` and returns that view (valid until the next call).
 * The buffer is kept by the caller for the whole run and grown to the next MiB when too small — not doubled, since
 * the callers' reads are of similar size (pack ranges, whole packs). Throws on any error and on a short read.
 */
export function readFileRange(path: string, offset: number, length: number, into: { buf: Buffer }): Buffer {
  if (into.buf.length < length) into.buf = Buffer.allocUnsafeSlow(Math.ceil(length / MIB) * MIB);
  const fd = openSync(path, C.O_RDONLY);
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, into.buf, got, length - got, offset + got);
      if (n === 0) throw new Error(`short read (${got} of ${length} bytes at ${offset})`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return into.buf.subarray(0, length);
}
