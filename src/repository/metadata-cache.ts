import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CachedKind = 'snapshot' | 'tree';

/**
 * A local copy of the small, immutable repository objects that browsing reads again and again — snapshot files and
 * tree blobs — for repositories on remote storage, so `ls`, `find`, `diff`, `snapshots` and restores of a remote
 * repository do not download them every time. Entries are the sealed bytes exactly as stored; the reader verifies
 * them as if they had just been downloaded (a snapshot by its SHA-256 name, a tree blob by its keyed id), and a
 * damaged entry is dropped and fetched again. Names are content addresses, so an entry never goes stale; objects a
 * prune removed just stay unused (deleting the directory is always safe). Writes are best effort.
 */
export class MetadataCache {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(kind: CachedKind, name: string): string {
    return join(this.#dir, kind, name.slice(0, 2), name);
  }

  get(kind: CachedKind, name: string): Buffer | undefined {
    try {
      return readFileSync(this.#path(kind, name));
    } catch {
      return undefined;
    }
  }

  put(kind: CachedKind, name: string, data: Uint8Array): void {
    const path = this.#path(kind, name);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(join(this.#dir, kind, name.slice(0, 2)), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, data, { mode: 0o600 });
      renameSync(tmp, path);
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  drop(kind: CachedKind, name: string): void {
    rmSync(this.#path(kind, name), { force: true });
  }
}
