import { IntegrityError, InvalidInputError, throwIfAborted } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { Repository } from '../repository/repository.ts';
import { Lru } from './lru.ts';

export type ContentRepo = Pick<Repository, 'loadBlob' | 'lookupBlob'>;

const NO_CONTENT: readonly string[] = Object.freeze([]);
const isContent = (f: readonly string[] | Pick<Node, 'content'>): f is readonly string[] => Array.isArray(f);

/** Where each blob of a file starts: `starts[i]` is blob i's offset, `starts[n]` the file's length. */
export interface BlobLayout {
  readonly ids: readonly string[];
  readonly starts: Float64Array;
  readonly size: number;
}

export interface ContentReaderOptions {
  /** bound of the blob cache used by readRange, in bytes (default 64 MiB) */
  readonly cacheBytes?: number;
  /** blobs fetched ahead while streaming (default 3) */
  readonly readAhead?: number;
}

/**
 * File contents from the repository: streamed blob by blob with a bounded read-ahead (constant memory), or as byte
 * ranges that fetch only the blobs the range touches (sizes come from the index, so no data is read to find them),
 * through a small LRU blob cache. Shared by dump, diff and the future WebDAV/FUSE/web views.
 */
export class ContentReader {
  readonly stats = { blobsLoaded: 0, cacheHits: 0 };
  readonly #repo: ContentRepo;
  readonly #cache: Lru<string, Buffer>;
  readonly #layouts = new WeakMap<readonly string[], BlobLayout>();
  readonly #pending = new Map<string, Promise<Buffer>>();
  readonly #readAhead: number;

  constructor(repo: ContentRepo, o: ContentReaderOptions = {}) {
    this.#repo = repo;
    this.#cache = new Lru(o.cacheBytes ?? 64 << 20, (b) => b.length);
    this.#readAhead = Math.max(1, o.readAhead ?? 3);
  }

  /** Blob offsets of `content` (memoized per content array). A blob missing from the index fails clearly. */
  layout(content: readonly string[]): BlobLayout {
    const hit = this.#layouts.get(content);
    if (hit) return hit;
    const starts = new Float64Array(content.length + 1);
    let at = 0;
    for (const [i, id] of content.entries()) {
      starts[i] = at;
      const loc = this.#repo.lookupBlob(Buffer.from(id, 'hex'));
      if (!loc) throw new IntegrityError(`data blob ${id} is not in the index (the file's content is lost; run \`pybackup check\`)`);
      at += loc.rawLength;
    }
    starts[content.length] = at;
    const l = { ids: content, starts, size: at };
    this.#layouts.set(content, l);
    return l;
  }

  /** One blob's plaintext through the cache. */
  async blob(id: string, signal?: AbortSignal): Promise<Buffer> {
    const hit = this.#cache.get(id);
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    const b = await this.#fetch(id, signal);
    this.#cache.set(id, b);
    return b;
  }

  async #fetch(id: string, signal?: AbortSignal): Promise<Buffer> {
    const pending = this.#pending.get(id);
    if (pending) return await pending;
    const p = this.#repo.loadBlob(Buffer.from(id, 'hex'), signal).then((b) => {
      this.stats.blobsLoaded++;
      return b;
    });
    this.#pending.set(id, p);
    try {
      return await p;
    } finally {
      this.#pending.delete(id);
    }
  }

  /**
   * The whole content, blob by blob, in order, with up to `readAhead` blobs in flight; bypasses the cache so a large
   * file does not evict it. Memory stays at readAhead × the largest blob.
   */
  async *stream(content: readonly string[], signal?: AbortSignal): AsyncGenerator<Buffer> {
    const queue: Promise<Buffer>[] = [];
    let next = 0;
    const fill = (): void => {
      while (queue.length < this.#readAhead && next < content.length) {
        const id = content[next++] as string;
        const p = this.#cache.get(id) ?? this.#fetch(id, signal);
        // a read-ahead that fails is reported when its turn comes, not as an unhandled rejection
        if (p instanceof Promise) p.catch(() => {});
        queue.push(Promise.resolve(p));
      }
    };
    fill();
    while (queue.length > 0) {
      throwIfAborted(signal);
      const b = await (queue.shift() as Promise<Buffer>);
      fill();
      yield b;
    }
  }

  /**
   * Bytes [offset, offset+length) of a file (its node, or its content ids), clipped at its end (an empty buffer past
   * it). Loads only the blobs the range overlaps, in parallel. The result may share memory with the blob cache: do not
   * modify it.
   */
  async readRange(file: readonly string[] | Pick<Node, 'content'>, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const content = isContent(file) ? file : (file.content ?? NO_CONTENT);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidInputError(`invalid offset ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidInputError(`invalid length ${length}`);
    const l = this.layout(content);
    const end = Math.min(offset + length, l.size);
    if (offset >= end) return Buffer.alloc(0);
    const first = blobAt(l.starts, offset);
    const last = blobAt(l.starts, end - 1);
    const blobs = await Promise.all(l.ids.slice(first, last + 1).map((id) => this.blob(id, signal)));
    if (blobs.length === 1) {
      const s = (l.starts[first] ?? 0) as number;
      return (blobs[0] as Buffer).subarray(offset - s, end - s);
    }
    const out = Buffer.allocUnsafe(end - offset);
    let w = 0;
    for (const [k, b] of blobs.entries()) {
      const s = l.starts[first + k] ?? 0;
      const from = Math.max(0, offset - s);
      const to = Math.min(b.length, end - s);
      w += b.copy(out, w, from, to);
    }
    return out;
  }
}

/** Index of the blob holding byte `pos` (0 ≤ pos < size): the last i with starts[i] ≤ pos (empty blobs skipped). */
export function blobAt(starts: Float64Array, pos: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((starts[mid] ?? 0) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
