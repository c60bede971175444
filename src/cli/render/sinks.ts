import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * Buffered line output for long listings: lines are joined into ~64 KiB writes (one syscall each instead of one per
 * line) and the writer waits for the stream to drain, so a slow pipe does not make memory grow.
 */
export class LineWriter {
  readonly #out: Writable;
  #parts: string[] = [];
  #size = 0;

  constructor(out: Writable = process.stdout) {
    this.#out = out;
  }

  async line(s: string): Promise<void> {
    this.#parts.push(s, '\n');
    this.#size += s.length + 1;
    if (this.#size >= 64 << 10) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    await writeTo(this.#out, text);
  }
}

/** Writes and resolves once the stream accepted the data (at once, or after 'drain'). */
export function writeTo(out: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      out.off('drain', onDrain);
      reject(e);
    };
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    if (out.write(data)) resolve();
    else {
      out.once('drain', onDrain);
      out.once('error', onError);
    }
  });
}

/** A byte sink into a new file (created or truncated); `close` closes it. */
export async function fileSink(path: string): Promise<{ sink: (b: Uint8Array) => Promise<void>; close: () => Promise<void> }> {
  const fh = await open(path, 'w', 0o666);
  return {
    sink: async (b) => {
      let at = 0;
      while (at < b.length) at += (await fh.write(b, at, b.length - at)).bytesWritten;
    },
    close: async () => await fh.close(),
  };
}
