import { throwIfAborted } from '../../errors.ts';
import { readFile } from 'node:fs/promises';
import { type Backend, type FileInfo, type FileSource, isFileSource, type FileType, type Handle, NotFoundError, type OpOptions, RepoExistsError, handleString } from '../backend.ts';

/** An in-memory repository: product code for tests and for throwaway repositories. */
export class MemBackend implements Backend {
  readonly location = 'mem:';
  readonly #files = new Map<string, Uint8Array>();

  #key(h: Handle): string {
    return `${h.type}/${h.name}`;
  }

  async create(o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    if (this.#files.has('config/')) throw new RepoExistsError('a repository already exists in memory');
  }

  async save(h: Handle, data: Uint8Array | FileSource, o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    const bytes = isFileSource(data) ? await readSource(data) : Uint8Array.from(data);
    throwIfAborted(o?.signal);
    this.#files.set(this.#key(h), bytes);
  }

  async load(h: Handle, range?: { offset: number; length: number }, o?: OpOptions): Promise<Uint8Array> {
    throwIfAborted(o?.signal);
    const d = this.#files.get(this.#key(h));
    if (!d) throw new NotFoundError(`${handleString(h)} does not exist`);
    if (!range) return Uint8Array.from(d);
    if (range.offset + range.length > d.length) throw new NotFoundError(`${handleString(h)}: range beyond end of file`);
    return d.slice(range.offset, range.offset + range.length);
  }

  async stat(h: Handle, o?: OpOptions): Promise<FileInfo> {
    throwIfAborted(o?.signal);
    const d = this.#files.get(this.#key(h));
    if (!d) throw new NotFoundError(`${handleString(h)} does not exist`);
    return { name: h.name, size: d.length };
  }

  async *list(type: FileType, o?: OpOptions): AsyncIterable<FileInfo> {
    const prefix = `${type}/`;
    for (const [k, v] of Array.from(this.#files)) {
      throwIfAborted(o?.signal);
      if (k.startsWith(prefix)) yield { name: k.slice(prefix.length), size: v.length };
    }
  }

  async remove(h: Handle, o?: OpOptions): Promise<void> {
    throwIfAborted(o?.signal);
    this.#files.delete(this.#key(h));
  }

  async close(): Promise<void> {}
}

async function readSource(src: FileSource): Promise<Uint8Array> {
  const data = await readFile(src.path);
  if (data.length !== src.size) throw new Error(`${src.path}: expected ${src.size} bytes, found ${data.length}`);
  return data;
}
