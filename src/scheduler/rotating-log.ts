/**
 * The daemon's log: one line per entry (`2025-01-02T03:04:05.678Z level message`), appended to NAME.log; when the
 * next line would take the file past `maxBytes`, NAME.log becomes NAME.log.1, .1 becomes .2, ... and the oldest
 * (NAME.log.<files-1>) is dropped, so at most `files` files of about `maxBytes` each are kept.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type LogLevel = 'info' | 'warn' | 'error';

export interface RotatingLogOptions {
  readonly dir: string;
  readonly name?: string;
  readonly maxBytes?: number;
  /** files kept, the current one included */
  readonly files?: number;
  readonly now?: () => number;
}

export class RotatingLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #files: number;
  readonly #now: () => number;
  #size: number | undefined;

  constructor(o: RotatingLogOptions) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.path = join(o.dir, o.name ?? 'daemon.log');
    this.#maxBytes = o.maxBytes ?? 1 << 20;
    this.#files = Math.max(1, o.files ?? 5);
    this.#now = o.now ?? Date.now;
  }

  write(level: LogLevel, message: string): void {
    // one entry is one line: embedded newlines would let a job's output forge entries
    const line = `${new Date(this.#now()).toISOString()} ${level} ${message.replaceAll(/\r?\n/g, ' | ')}\n`;
    const bytes = Buffer.byteLength(line);
    this.#size ??= sizeOf(this.path);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) this.#rotate();
    appendFileSync(this.path, line, { mode: 0o600 });
    this.#size += bytes;
  }

  #rotate(): void {
    rmSync(`${this.path}.${this.#files - 1}`, { force: true });
    for (let i = this.#files - 2; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        // a missing generation: nothing to move
      }
    }
    if (this.#files > 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.#size = 0;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
