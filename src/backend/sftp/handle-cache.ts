import type { SftpSession } from './session.ts';

interface Entry {
  readonly handle: Promise<Buffer>;
  users: number;
  evicted: boolean;
}

/**
 * Open read handles of one session, least recently used first out. A ranged load of a pack whose handle is cached
 * costs one round trip (READ) instead of two (OPEN + READ): restores and checks read many ranges of the same packs.
 * Only immutable, content-addressed files belong here; `drop` forgets a path that is removed. A handle is closed
 * once it is evicted and no load is using it.
 */
export class HandleCache {
  readonly #s: SftpSession;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();

  constructor(s: SftpSession, max = 32) {
    this.#s = s;
    this.#max = max;
  }

  async use<T>(path: string, what: string, fn: (handle: Buffer) => Promise<T>): Promise<T> {
    let e = this.#entries.get(path);
    if (e) {
      this.#entries.delete(path);
      this.#entries.set(path, e);
    } else {
      const entry: Entry = { handle: this.#s.open(path, 'r', what), users: 0, evicted: false };
      e = entry;
      this.#entries.set(path, entry);
      // a failed open is not remembered: the next load asks the server again
      entry.handle.catch(() => {
        if (this.#entries.get(path) === entry) this.#entries.delete(path);
        entry.evicted = true;
      });
      this.#evict();
    }
    e.users++;
    try {
      return await fn(await e.handle);
    } finally {
      e.users--;
      if (e.evicted && e.users === 0) this.#close(e, what);
    }
  }

  drop(path: string): void {
    const e = this.#entries.get(path);
    if (!e) return;
    this.#entries.delete(path);
    e.evicted = true;
    if (e.users === 0) this.#close(e, `close ${path}`);
  }

  #evict(): void {
    for (const [path, e] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      this.#entries.delete(path);
      e.evicted = true;
      if (e.users === 0) this.#close(e, `close ${path}`);
    }
  }

  #close(e: Entry, what: string): void {
    e.handle.then(
      (h) => this.#s.close(h, what).catch(() => {}),
      () => {},
    );
  }
}
