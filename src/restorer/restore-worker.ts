import { closeSync, constants as C, openSync, writeSync } from 'node:fs';
import { setTimesFd } from '../platform/libc.ts';
import { readFileRange } from '../platform/read-range.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { Sealer } from '../crypto/aead.ts';
import { openBlob } from '../repository/blob-codec.ts';
import type { RangeResult, RestoreWorkerInit, ToRestoreWorker } from './restore-protocol.ts';

/**
 * A restore worker: decrypts, decompresses and verifies the blobs of one loaded pack range and writes them into
 * their files with positional writes. Files are created without truncation (the main thread removed any old file
 * first), opened with O_NOFOLLOW so a symlink planted in the target is never followed.
 */
const init = workerData as RestoreWorkerInit;
const port = parentPort;
if (!port) throw new Error('restore-worker must run in a worker thread');
const sealer = new Sealer(init.encKey);
const idKey = Buffer.from(init.idKey);
const zero = Buffer.alloc(1 << 20);
let scratch = Buffer.allocUnsafeSlow(1 << 20);
/** decrypted boxes land here (Sealer.openInto): no chunk-sized allocation per blob */
const decrypted = { buf: Buffer.allocUnsafeSlow(1 << 20) };
const FLAGS = C.O_WRONLY | C.O_CREAT | C.O_NOFOLLOW;

function isZero(b: Buffer): boolean {
  for (let p = 0; p < b.length; p += zero.length) {
    const n = Math.min(zero.length, b.length - p);
    if (!b.subarray(p, p + n).equals(zero.subarray(0, n))) return false;
  }
  return true;
}

function writeAll(fd: number, b: Buffer, pos: number): void {
  let p = 0;
  while (p < b.length) p += writeSync(fd, b, p, b.length - p, pos + p);
}

/** --sparse: writes `b` at file offset `pos` except its all-zero filesystem blocks, which stay holes. */
const BLOCK = 4096;
function writeSparse(fd: number, b: Buffer, pos: number): void {
  let run = -1;
  for (let i = 0; i < b.length; ) {
    const end = Math.min(b.length, i + BLOCK - ((pos + i) % BLOCK));
    if (isZero(b.subarray(i, end))) {
      if (run >= 0) writeAll(fd, b.subarray(run, i), pos + run);
      run = -1;
    } else if (run < 0) run = i;
    i = end;
  }
  if (run >= 0) writeAll(fd, b.subarray(run), pos + run);
}

/** False when not set here (no FFI, a failed call, times that are not numbers): the main thread then sets them by path and reports why. */
function trySetTimes(fd: number, times: readonly [string, string]): boolean {
  try {
    return setTimesFd(fd, BigInt(times[0]), BigInt(times[1]));
  } catch {
    return false;
  }
}

/** pack ranges read here (a local repository) land in this buffer, kept for the run (readFileRange grows it) */
const rangeBuf = { buf: Buffer.allocUnsafeSlow(1 << 20) };

port.on('message', (m: ToRestoreWorker) => {
  if (m.t === 'stop') {
    port.close();
    return;
  }
  let data: Buffer;
  if (m.file) {
    try {
      data = readFileRange(m.file.path, m.file.offset, m.file.length, rangeBuf);
    } catch (e) {
      port.postMessage({ t: 'done', job: m.job, bytes: 0, failed: [], unread: (e as Error).message } satisfies RangeResult);
      return;
    }
  } else if (m.data) data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  else {
    port.postMessage({ t: 'done', job: m.job, bytes: 0, failed: [], unread: 'no data sent' } satisfies RangeResult);
    return;
  }
  const failed: { file: number; message: string }[] = [];
  const timed: number[] = [];
  let bytes = 0;
  for (const b of m.blobs) {
    let plain: Buffer;
    try {
      if (scratch.length < b.rawLength) scratch = Buffer.allocUnsafeSlow(Math.max(b.rawLength, scratch.length * 2));
      // a compressed blob decodes into the scratch buffer: it is written out before the next blob reuses it
      plain = openBlob(data.subarray(b.offset, b.offset + b.length), sealer, idKey, Buffer.from(b.id, 'hex'), b.rawLength, scratch, decrypted);
    } catch (e) {
      for (const t of b.targets) failed.push({ file: t.file, message: `blob ${b.id}: ${(e as Error).message}` });
      continue;
    }
    for (const t of b.targets) {
      let fd: number | undefined;
      try {
        fd = openSync(Buffer.from(t.path, 'latin1'), FLAGS, t.mode);
        // with --sparse the main thread sized the file up front, so skipped zero blocks stay holes
        if (init.sparse) writeSparse(fd, plain, t.offset);
        else writeAll(fd, plain, t.offset);
        bytes += plain.length;
        // the file's only blob: its times can be set now (chmod, chown and xattrs later change only its ctime)
        if (t.times && trySetTimes(fd, t.times)) timed.push(t.file);
      } catch (e) {
        failed.push({ file: t.file, message: (e as Error).message });
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
  }
  const r: RangeResult = { t: 'done', job: m.job, bytes, failed, timed };
  port.postMessage(r);
});
