import type { ContentReader } from '../../browse/content.ts';
import { resolvePath, splitPath, type Resolved } from '../../browse/path.ts';
import type { TreeStore } from '../../browse/tree-store.ts';
import { UsageError } from '../../errors.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots, resolveSnapshot } from '../../repository/snapshots.ts';
import type { RestoreJobs } from './restore-jobs.ts';

/** What the pages need from the open repository. */
export interface UiDeps {
  readonly repo: Repository;
  readonly store: TreeStore;
  readonly reader: ContentReader;
  /** shown on the overview (the location string, without credentials) */
  readonly location: string;
  /** ISO time of the last successful check, if known */
  readonly lastCheck: () => string | undefined;
  /** told about snapshot files that cannot be read */
  readonly onWarning?: (message: string) => void;
  /** ends with the server */
  readonly signal: AbortSignal;
}

export interface RepoTotals {
  readonly blobs: number;
  readonly rawSize: number;
  readonly rawDataSize: number;
  readonly storedSize: number;
}

/** How long a snapshot listing is reused before the repository is listed again. */
const SNAPSHOT_TTL_MS = 10_000;

/** Shared state of one UI server: the repository, a short-lived snapshot listing, cached totals, restore jobs. */
export class UiState {
  readonly deps: UiDeps;
  readonly token: string;
  readonly jobs: RestoreJobs;
  #list: { at: number; p: Promise<SnapshotWithId[]> } | undefined;
  #totals: { blobs: number; t: RepoTotals } | undefined;

  constructor(deps: UiDeps, token: string, jobs: RestoreJobs) {
    this.deps = deps;
    this.token = token;
    this.jobs = jobs;
  }

  /** Every readable snapshot, oldest first (relisted after a few seconds, with the index, so new backups show). */
  async snapshots(): Promise<SnapshotWithId[]> {
    const now = Date.now();
    if (!this.#list || now - this.#list.at > SNAPSHOT_TTL_MS) {
      const { repo, signal, onWarning } = this.deps;
      const p = (async () => {
        await repo.syncCatalog(signal, onWarning);
        return await listSnapshots(repo, { signal, onError: (name, e) => onWarning?.(`snapshot ${name} is unreadable: ${(e as Error).message}`) });
      })();
      this.#list = { at: now, p };
      p.catch(() => {
        if (this.#list?.p === p) this.#list = undefined;
      });
    }
    return await this.#list.p;
  }

  /** A snapshot by full id or unique prefix (a UsageError / SnapshotNotFoundError otherwise). */
  async snapshot(ref: string | null): Promise<SnapshotWithId> {
    if (!ref) throw new UsageError('no snapshot given');
    return resolveSnapshot(await this.snapshots(), ref);
  }

  /** The node at `path` in a snapshot (the root for "/" or ""). */
  async resolve(s: SnapshotWithId, path: string): Promise<Resolved> {
    if (path.includes('\0')) throw new UsageError('a path may not contain NUL');
    return await resolvePath(this.deps.store, s.tree, path, `snapshot ${s.id.slice(0, 8)}`, this.deps.signal);
  }

  /** Blob totals from the index (raw and stored sizes), recomputed when the number of blobs changes. */
  totals(): RepoTotals {
    const cat = this.deps.repo.catalog;
    const blobs = cat.counts().blobs;
    if (this.#totals?.blobs === blobs) return this.#totals.t;
    let rawSize = 0;
    let rawDataSize = 0;
    let storedSize = 0;
    for (const b of cat.allBlobs()) {
      rawSize += b.rawLength;
      if (b.type === 'data') rawDataSize += b.rawLength;
      storedSize += b.length;
    }
    const t = { blobs, rawSize, rawDataSize, storedSize };
    this.#totals = { blobs, t };
    return t;
  }
}

/** "/a/b" -> components, for the history lookup (which takes components). */
export function componentsOf(path: string): string[] {
  return splitPath(path);
}
