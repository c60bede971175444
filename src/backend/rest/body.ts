import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { AbortedError, PyBackupError, throwIfAborted } from '../../errors.ts';
import { type FileSource, PermanentError, TransientError, isFileSource } from '../backend.ts';
import { PACE_CHUNK, type Pacer } from '../rate-limit.ts';

/** Unpaced bodies move in pieces of this size, so a big body never sits in a socket's or session's buffer at once. */
const CHUNK = 256 * 1024;

export function bodySize(body: Uint8Array | FileSource): number {
  return isFileSource(body) ? body.size : body.length;
}

/**
 * Writes `body` to `sink` and ends it: bytes in pieces, a file read piece by piece (it must hold exactly `size`
 * bytes), each piece paid for with `pace` first, waiting for the sink to drain between pieces.
 */
export async function sendBody(sink: Writable, body: Uint8Array | FileSource, pace: Pacer | undefined, signal: AbortSignal | undefined): Promise<void> {
  const chunk = pace ? PACE_CHUNK : CHUNK;
  const put = async (piece: Uint8Array): Promise<void> => {
    if (pace) await pace(piece.length, signal);
    throwIfAborted(signal);
    if (sink.destroyed || sink.writableEnded) throw new TransientError('the connection closed while the request was being sent');
    if (!sink.write(piece)) await drained(sink);
  };
  if (!isFileSource(body)) {
    for (let off = 0; off < body.length; off += chunk) await put(body.subarray(off, Math.min(body.length, off + chunk)));
  } else {
    let fh;
    try {
      fh = await open(body.path, 'r');
    } catch (e) {
      throw new PermanentError(`cannot read ${body.path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      let pos = 0;
      while (pos < body.size) {
        const buf = Buffer.allocUnsafe(Math.min(chunk, body.size - pos)); // fresh: the sink may still hold the last one
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos).catch((e: unknown) => {
          throw new PermanentError(`cannot read ${body.path}: ${(e as Error).message}`, { cause: e });
        });
        if (bytesRead === 0) throw new PermanentError(`${body.path} holds ${pos} bytes, expected ${body.size}`);
        pos += bytesRead;
        await put(buf.subarray(0, bytesRead));
      }
      if ((await fh.stat()).size !== body.size) throw new PermanentError(`${body.path} does not hold the expected ${body.size} bytes`);
    } finally {
      await fh.close();
    }
  }
  sink.end();
}

function drained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new TransientError('the connection closed while the request was being sent'));
    };
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', onClose);
  });
}

/**
 * Reads a response body. With `expected` (Content-Length) it fills one buffer of that size and fails with
 * TransientError when the stream ends short (a connection lost mid-body). At most `cap` bytes are kept; the rest is
 * read and dropped (error bodies), so the connection stays usable.
 */
export async function readBody(src: Readable, o: { expected?: number | undefined; cap?: number; pace?: Pacer | undefined; signal?: AbortSignal | undefined }): Promise<Buffer> {
  const cap = o.cap ?? Number.POSITIVE_INFINITY;
  const pre = o.expected !== undefined && o.expected <= cap ? Buffer.allocUnsafe(o.expected) : undefined;
  const parts: Buffer[] = [];
  let got = 0;
  let kept = 0;
  for await (const c of src as AsyncIterable<Buffer>) {
    if (o.pace) await o.pace(c.length, o.signal);
    if (pre) {
      if (got + c.length > pre.length) throw new TransientError(`the server sent more than the announced ${pre.length} bytes`);
      c.copy(pre, got);
    } else if (kept < cap) {
      const piece = c.length <= cap - kept ? c : c.subarray(0, cap - kept);
      parts.push(piece);
      kept += piece.length;
    }
    got += c.length;
  }
  if (o.expected !== undefined && got < o.expected) throw new TransientError(`the connection ended after ${got} of ${o.expected} bytes`);
  return pre ?? Buffer.concat(parts);
}

/** Content-Length as a number, or undefined when absent or malformed. */
export function contentLength(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || !/^\d{1,15}$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

/**
 * A network-level failure as the backend contract wants it: aborts stay aborts, classified errors pass, a TLS
 * certificate or protocol failure and a peer that does not speak HTTP are permanent (retrying cannot help), anything
 * else (refused, reset, timed out, DNS) is transient.
 */
export function netError(e: unknown, signal: AbortSignal | undefined, what: string): unknown {
  if (signal?.aborted) return e instanceof AbortedError ? e : new AbortedError('interrupted', { cause: signal.reason });
  if (e instanceof PyBackupError) return e;
  const message = `${what}: ${(e as Error)?.message ?? String(e)}`;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /CERT|^ERR_TLS_|^ERR_SSL_|^HPE_/.test(code)) {
    const hint = code.startsWith('HPE_') ? ' (the server does not speak HTTP there)' : ' (for a private CA, set NODE_EXTRA_CA_CERTS=FILE)';
    return new PermanentError(`${message}${hint}`, { cause: e });
  }
  return new TransientError(message, { cause: e });
}
