import { open as openFile } from 'node:fs/promises';
import { throwIfAborted } from '../../errors.ts';
import { PermanentError } from '../backend.ts';
import type { SftpSession } from './session.ts';

/** Requests in flight per file. 16 x 256 KiB fills ssh2's 2 MiB channel window with room to spare. */
export const REQUESTS_PER_FILE = 16;

/**
 * Runs `fn` over the chunks [offset, offset+len) of `size` bytes, at most `width` at a time, in offset order of
 * start. The first failure stops new chunks from starting and is rethrown once the running ones have settled.
 */
async function forChunks(size: number, chunk: number, width: number, signal: AbortSignal | undefined, fn: (offset: number, len: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (w: number): Promise<void> => {
    while (!failed && next < size) {
      throwIfAborted(signal);
      const offset = next;
      const len = Math.min(chunk, size - offset);
      next += len;
      try {
        await fn(offset, len, w);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const n = Math.max(1, Math.min(width, Math.ceil(size / chunk)));
  const results = await Promise.allSettled(Array.from({ length: n }, (_, w) => worker(w)));
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
}

/** Writes `data` at offset 0 of an open remote file with many WRITE requests in flight. */
export async function writeBytes(s: SftpSession, handle: Buffer, data: Uint8Array, what: string, signal?: AbortSignal): Promise<void> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await forChunks(buf.length, s.maxWrite, REQUESTS_PER_FILE, signal, (offset, len) => s.write(handle, buf, offset, len, offset, what));
}

/** Copies a local file to an open remote file: positional local reads feed many WRITE requests in flight. */
export async function writeLocalFile(s: SftpSession, handle: Buffer, path: string, size: number, what: string, signal?: AbortSignal): Promise<void> {
  const fh = await openFile(path, 'r');
  try {
    const st = await fh.stat();
    if (st.size !== size) throw new PermanentError(`${what}: ${path} holds ${st.size} bytes, expected ${size}`);
    const bufs: Buffer[] = [];
    await forChunks(size, s.maxWrite, REQUESTS_PER_FILE, signal, async (offset, len, w) => {
      // ssh2 copies the payload into its packet when the request is issued, so each worker reuses one buffer
      const buf = (bufs[w] ??= Buffer.allocUnsafe(s.maxWrite));
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, offset + got);
        if (bytesRead === 0) throw new PermanentError(`${what}: ${path} ended early (at ${offset + got} of ${size} bytes)`);
        got += bytesRead;
      }
      await s.write(handle, buf, 0, len, offset, what);
    });
  } finally {
    await fh.close();
  }
}

/**
 * Reads `length` bytes from `offset` of an open remote file with many READ requests in flight. A server may
 * answer a READ with fewer bytes than asked: the rest is asked for again. End of file before `length` bytes
 * is a PermanentError (a short file or a range beyond its end).
 */
export async function readRange(s: SftpSession, handle: Buffer, offset: number, length: number, what: string, signal?: AbortSignal): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  await forChunks(length, s.maxRead, REQUESTS_PER_FILE, signal, async (at, len) => {
    let got = 0;
    while (got < len) {
      const n = await s.read(handle, out, at + got, len - got, offset + at + got, what);
      if (n === 0) throw new PermanentError(`${what}: short read (file ends before byte ${offset + at + got}; wanted ${length} bytes from ${offset})`);
      got += n;
    }
  });
  return out;
}

/**
 * Reads a whole file: its size (FSTAT) and its first chunk are asked for at once, so a small file (index, snapshot,
 * key) costs one round trip after the OPEN; a larger one reads the rest with many requests in flight.
 */
export async function readWhole(s: SftpSession, handle: Buffer, what: string, signal?: AbortSignal): Promise<Buffer> {
  const first = Buffer.allocUnsafe(s.maxRead);
  const [st, n] = await Promise.all([s.fstat(handle, what), s.read(handle, first, 0, first.length, 0, what)]);
  const size = Number(st.size);
  // a small file gets a buffer of its own rather than a view that pins the whole chunk buffer
  if (size <= n) return size < first.length / 4 ? Buffer.from(first.subarray(0, size)) : first.subarray(0, size);
  const rest = await readRange(s, handle, n, size - n, what, signal);
  return Buffer.concat([first.subarray(0, n), rest], size);
}
