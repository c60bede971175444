import { createHash } from 'node:crypto';
import { type Chunker, createChunker, cutStream, deriveGearTable } from '../chunker/fastcdc.ts';
import { throwIfAborted } from '../errors.ts';
import type { Repository } from '../repository/repository.ts';
import type { BlobSaver } from './blob-saver.ts';
import type { CopyMode } from './copy-events.ts';

export type CopySourceRepo = Pick<Repository, 'config' | 'key' | 'loadBlob'>;
export type ChunkerRepo = Pick<Repository, 'config' | 'key'>;

/** Memo tables are dropped when they reach this many entries, so memory does not grow with the repository. */
const MEMO_LIMIT = 200_000;
/** Source blobs read ahead of the one being stored. */
const PREFETCH = 4;

/**
 * Data blobs keep their boundaries only when both repositories cut the same places: equal chunker parameters and an
 * equal chunker secret (`init --copy-chunker-params`). Otherwise contents are cut again with the destination's chunker.
 */
export function copyModeFor(src: ChunkerRepo, dst: ChunkerRepo): CopyMode {
  const a = src.config.chunker;
  const b = dst.config.chunker;
  const same = a.min === b.min && a.avg === b.avg && a.max === b.max && src.key.chunker.equals(dst.key.chunker);
  return same ? 'keep-boundaries' : 'rechunk';
}

/**
 * Turns a file's source content (data blob ids of the source) into destination content: every blob is read and
 * verified in the source, then either stored as it is (keep-boundaries; its id recomputed with the destination's id
 * key) or streamed through the destination's FastCDC (rechunk) — the same cut points a backup into the destination
 * makes, so later backups dedupe with the copy. Storing goes through `saver`, which dedupes against the destination's
 * catalog and this session. Identical content lists (a file unchanged between snapshots) are translated once.
 */
export class ContentCopier {
  readonly mode: CopyMode;
  /** plaintext bytes read from the source */
  bytesRead = 0;
  /** whether any blob was new since the last `takeDirty()` */
  #dirty = false;
  readonly #src: CopySourceRepo;
  readonly #saver: BlobSaver;
  readonly #signal: AbortSignal | undefined;
  readonly #blobMemo = new Map<string, string>();
  readonly #fileMemo = new Map<string, string[]>();
  readonly #chunker: Chunker | undefined;
  #buf: Buffer = Buffer.alloc(0);

  constructor(src: CopySourceRepo, dst: ChunkerRepo, saver: BlobSaver, signal?: AbortSignal) {
    this.#src = src;
    this.#saver = saver;
    this.#signal = signal;
    this.mode = copyModeFor(src, dst);
    if (this.mode === 'rechunk') this.#chunker = createChunker(dst.config.chunker, deriveGearTable(dst.key.chunker));
  }

  /** Saves a tree blob (already serialized with destination ids); returns its id. */
  async saveTree(plain: Buffer): Promise<string> {
    const r = await this.#saver.save('tree', plain);
    if (r.isNew) this.#dirty = true;
    return r.id;
  }

  /** True when something was stored since the last call. */
  takeDirty(): boolean {
    const d = this.#dirty;
    this.#dirty = false;
    return d;
  }

  async content(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const key = ids.length === 1 ? (ids[0] as string) : createHash('sha256').update(ids.join(',')).digest('hex');
    const known = this.#fileMemo.get(key);
    if (known) return known;
    const out = this.#chunker ? await this.#rechunk(this.#chunker, ids) : await this.#keep(ids);
    if (this.#fileMemo.size >= MEMO_LIMIT) this.#fileMemo.clear();
    this.#fileMemo.set(key, out);
    return out;
  }

  async #load(id: string): Promise<Buffer> {
    throwIfAborted(this.#signal);
    const plain = await this.#src.loadBlob(Buffer.from(id, 'hex'), this.#signal);
    this.bytesRead += plain.length;
    return plain;
  }

  async #store(plain: Buffer): Promise<string> {
    const r = await this.#saver.save('data', plain);
    if (r.isNew) this.#dirty = true;
    return r.id;
  }

  /**
   * The plaintexts of `ids` in order, up to PREFETCH loads in flight (a remote source is not read one blob at a
   * time); `skip` ids are not loaded (yielded as undefined).
   */
  async *#loadAll(ids: readonly string[], skip: (id: string) => boolean): AsyncGenerator<Buffer | undefined> {
    const queue: Promise<Buffer | undefined>[] = [];
    let next = 0;
    const fill = (): void => {
      while (queue.length < PREFETCH && next < ids.length) {
        const id = ids[next++] as string;
        const p = skip(id) ? Promise.resolve(undefined) : this.#load(id);
        p.catch(() => {}); // awaited below in order; this only keeps a later failure from being "unhandled"
        queue.push(p);
      }
    };
    fill();
    while (queue.length > 0) {
      const b = await queue.shift();
      fill();
      yield b;
    }
  }

  async #keep(ids: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    let i = 0;
    for await (const plain of this.#loadAll(ids, (id) => this.#blobMemo.has(id))) {
      const id = ids[i++] as string;
      let dst = this.#blobMemo.get(id);
      if (dst === undefined) {
        dst = await this.#store(plain ?? (await this.#load(id)));
        if (this.#blobMemo.size >= MEMO_LIMIT) this.#blobMemo.clear();
        this.#blobMemo.set(id, dst);
      }
      out.push(dst);
    }
    return out;
  }

  /** Streams the blobs' plaintext through the destination chunker (cut points as if the file were read whole). */
  async #rechunk(chunker: Chunker, ids: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    let start = 0;
    let end = 0;
    const max = chunker.params.max;
    // Cut only with `max` bytes at hand (or at the end): every cut is then settled, and no byte is scanned twice
    // while source blobs (often smaller than `max`) trickle in.
    const drain = async (eof: boolean): Promise<void> => {
      while (eof ? end > start : end - start >= max) {
        const n = cutStream(chunker, this.#buf, start, end, eof);
        if (n <= 0) break;
        out.push(await this.#store(this.#buf.subarray(start, start + n)));
        start += n;
      }
    };
    for await (const got of this.#loadAll(ids, () => false)) {
      const plain = got as Buffer;
      if (end + plain.length > this.#buf.length) {
        // keep only the unsettled tail (< max), growing the buffer when tail + blob do not fit
        const tail = end - start;
        const buf = tail + plain.length > this.#buf.length ? Buffer.allocUnsafe(Math.max(tail + plain.length, chunker.params.max + (4 << 20))) : this.#buf;
        this.#buf.copy(buf, 0, start, end);
        this.#buf = buf;
        start = 0;
        end = tail;
      }
      plain.copy(this.#buf, end);
      end += plain.length;
      await drain(false);
    }
    await drain(true);
    return out;
  }
}
