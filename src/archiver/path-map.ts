/**
 * Recorded paths vs. paths read (`backup --as-path`, profiles with a filesystem snapshot step). The snapshot, its
 * tree, its `paths`, the exclude rules and the files cache all see the recorded path (e.g. /home); the files are
 * read from where they really are (e.g. the snapshot's mount point /mnt/snap/home). So a backup from next week's
 * snapshot, mounted elsewhere or at the same place, has the same parent and hits the same files-cache rows.
 */
import { isAbsolute, normalize } from 'node:path';
import { UsageError } from '../errors.ts';

export interface PathMapping {
  /** absolute path as recorded in the snapshot */
  readonly recorded: string;
  /** absolute path the data is read from */
  readonly real: string;
}

function clean(p: string, what: string): string {
  if (!isAbsolute(p)) throw new UsageError(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  const n = normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function under(p: string, base: string): boolean {
  return p === base || base === '/' || p.startsWith(`${base}/`);
}

export class PathMap {
  readonly #m: readonly PathMapping[];

  constructor(mappings: readonly PathMapping[]) {
    // longest recorded prefix first, so that nested mappings take precedence
    this.#m = mappings
      .map((m) => ({ recorded: clean(m.recorded, 'the recorded path'), real: clean(m.real, 'the source path') }))
      .sort((a, b) => b.recorded.length - a.recorded.length);
  }

  get empty(): boolean {
    return this.#m.length === 0;
  }

  get mappings(): readonly PathMapping[] {
    return this.#m;
  }

  /** The path to read for a recorded absolute path (itself when no mapping covers it). */
  real(recorded: string): string {
    for (const m of this.#m) {
      if (!under(recorded, m.recorded)) continue;
      const rest = m.recorded === '/' ? recorded : recorded.slice(m.recorded.length);
      if (rest === '' || rest === '/') return m.real;
      return m.real === '/' ? rest : m.real + rest;
    }
    return recorded;
  }

  /** Same for raw path bytes (file names need not be UTF-8). */
  realBytes(recorded: Buffer): Buffer {
    if (this.#m.length === 0) return recorded;
    const s = recorded.toString('latin1');
    for (const m of this.#m) {
      const rec = Buffer.from(m.recorded).toString('latin1');
      if (!under(s, rec)) continue;
      const rest = rec === '/' ? s : s.slice(rec.length);
      const real = Buffer.from(m.real).toString('latin1');
      if (rest === '' || rest === '/') return Buffer.from(real, 'latin1');
      return Buffer.from(real === '/' ? rest : real + rest, 'latin1');
    }
    return recorded;
  }
}
