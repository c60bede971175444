/**
 * The directories touched since the last backup. A change to an entry marks the directory holding it (its listing
 * or an entry's metadata changed) and, for a directory, the directory itself. Past `limit` directories the set
 * gives up and asks for a full incremental backup instead (the files cache keeps that cheap).
 */
import { dirname } from 'node:path';

export interface Changes {
  readonly dirs: ReadonlySet<string>;
  /** back up everything (overflow, a root that came back, a lost notification) */
  readonly full: boolean;
  readonly reason: string;
}

export class ChangeSet {
  readonly #limit: number;
  #dirs = new Set<string>();
  #full: string | undefined;
  /** when the first change of this batch arrived, and the latest one (ms) */
  first: number | undefined;
  last: number | undefined;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#dirs.size;
  }

  get full(): boolean {
    return this.#full !== undefined;
  }

  get empty(): boolean {
    return this.#dirs.size === 0 && this.#full === undefined;
  }

  #touch(now: number): void {
    this.first ??= now;
    this.last = now;
  }

  /** `path` changed (absolute); `isDir` when it is (now) a directory. */
  add(path: string, isDir: boolean, now: number): void {
    this.#touch(now);
    if (this.#full !== undefined) return;
    this.#dirs.add(dirname(path));
    if (isDir) this.#dirs.add(path);
    if (this.#dirs.size > this.#limit) this.markFull(`more than ${this.#limit} directories changed`, now);
  }

  markFull(reason: string, now: number): void {
    this.#touch(now);
    this.#full ??= reason;
    this.#dirs.clear();
  }

  /** Hands over the batch and starts an empty one. */
  take(): Changes {
    const c: Changes = { dirs: this.#dirs, full: this.#full !== undefined, reason: this.#full ?? `${this.#dirs.size} changed ${this.#dirs.size === 1 ? 'directory' : 'directories'}` };
    this.#dirs = new Set();
    this.#full = undefined;
    this.first = undefined;
    this.last = undefined;
    return c;
  }

  /** Puts a batch back (its backup failed), merged with what arrived since. */
  restore(c: Changes, now: number): void {
    if (c.full) this.markFull(c.reason, now);
    else {
      this.#touch(now);
      if (this.#full === undefined) for (const d of c.dirs) this.#dirs.add(d);
    }
  }
}
