import type { Command } from 'commander';
import { ContentReader } from '../../browse/content.ts';
import { TreeStore } from '../../browse/tree-store.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { Repository } from '../../repository/repository.ts';
import { type SnapshotFilter, listSnapshots, resolveSnapshot } from '../../repository/snapshots.ts';
import { TreeCatalog, treeCatalogPath } from '../../repository/tree-catalog.ts';
import { type Context, withRepository } from '../context.ts';
import { collect, reportUnreadableSnapshot } from './common.ts';

export interface FilterFlags {
  host: string[];
  tag: string[];
  path: string[];
}

/** --host/--tag/--path as `snapshots` has them (they also pick which snapshot "latest" means). */
export function filterOptions(cmd: Command, what = 'snapshots'): Command {
  return cmd
    .option('--host <host>', `only ${what} of this host (repeatable)`, collect, [])
    .option('--tag <tags>', `only ${what} with these tags (a,b = both; repeatable = either)`, collect, [])
    .option('--path <path>', `only ${what} including this path (repeatable)`, collect, []);
}

export function filterOf(f: FilterFlags): SnapshotFilter {
  return { hosts: f.host, tags: f.tag, paths: f.path };
}

export interface Browse {
  readonly repo: Repository;
  readonly store: TreeStore;
  readonly reader: ContentReader;
  /** every readable snapshot, oldest first (listed once) */
  snapshots(): Promise<SnapshotWithId[]>;
  /** "latest" or an ID prefix */
  snapshot(ref: string, filter: SnapshotFilter): Promise<SnapshotWithId>;
}

/**
 * Opens the repository with a shared lock and the browsing core around it. With `catalog`, the tree catalog beside
 * the blob catalog is used (a failure to open or use it only costs speed: it is reported and browsing goes on).
 */
export async function withBrowse<T>(c: Context, o: { catalog: boolean }, fn: (b: Browse) => Promise<T>): Promise<T> {
  return await withRepository(c, { lock: 'shared' }, async (repo) => {
    let catalog: TreeCatalog | undefined;
    const warn = (e: unknown): void => c.out.warn(`warning: tree catalog unavailable (${(e as Error).message}); reading trees from the repository`);
    if (o.catalog) {
      try {
        catalog = TreeCatalog.open(treeCatalogPath(repo.catalog.path));
      } catch (e) {
        warn(e);
      }
    }
    try {
      const store = new TreeStore(repo, { catalog, onCatalogError: warn });
      let list: Promise<SnapshotWithId[]> | undefined;
      const snapshots = (): Promise<SnapshotWithId[]> => (list ??= listSnapshots(repo, { signal: c.signal, onError: reportUnreadableSnapshot(c) }));
      return await fn({
        repo,
        store,
        reader: new ContentReader(repo),
        snapshots,
        snapshot: async (ref, filter) => resolveSnapshot(await snapshots(), ref, filter),
      });
    } finally {
      catalog?.close();
    }
  });
}
