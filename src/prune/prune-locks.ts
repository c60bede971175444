import { NotFoundError } from '../backend/backend.ts';
import { PyBackupError, throwIfAborted } from '../errors.ts';
import { type LockInfo, isStale } from '../repository/lock.ts';
import type { Repository } from '../repository/repository.ts';

/**
 * A mark is swept only when every other live lock started at least this long after it: room for clock skew between
 * hosts and for the time the mark file took to be stored (docs/design.md §14e).
 */
export const MARK_MARGIN_MS = 10 * 60_000;

const LIST_ROUNDS = 10;

export type LockRepo = Pick<Repository, 'backend' | 'loadJson'>;

/** A lock file that exists but cannot be read: it holds back every sweep (it may belong to a running backup). */
export const UNREADABLE_LOCK = (name: string): LockInfo => ({ time: '', exclusive: false, hostname: `unreadable lock file ${name}`, username: '?', pid: 0 });

/**
 * The live locks of other processes (not `own`, not stale). A lock that vanishes between the listing and its load
 * was released or refreshed; a refresh stores the new lock file before removing the old one, so the listing is
 * repeated until a round sees no file vanish, and a refreshed lock is never missed. A lock file that cannot be read
 * is returned as a blocker (UNREADABLE_LOCK): it cannot be shown to be stale.
 */
export async function liveForeignLocks(repo: LockRepo, own: (name: string) => boolean, signal?: AbortSignal, now = Date.now()): Promise<LockInfo[]> {
  const loaded = new Map<string, LockInfo | undefined>();
  for (let round = 0; round < LIST_ROUNDS; round++) {
    let vanished = false;
    for await (const f of repo.backend.list('lock', signal ? { signal } : undefined)) {
      if (own(f.name) || loaded.has(f.name)) continue;
      throwIfAborted(signal);
      try {
        const info = await repo.loadJson<LockInfo>('lock', f.name, signal);
        loaded.set(f.name, isStale(info, now) ? undefined : info);
      } catch (e) {
        if (e instanceof NotFoundError) {
          vanished = true;
          loaded.set(f.name, undefined);
        } else if (e instanceof PyBackupError && e.code === 'ABORTED') {
          throw e;
        } else {
          loaded.set(f.name, UNREADABLE_LOCK(f.name));
        }
      }
    }
    if (!vanished) return [...loaded.values()].filter((l): l is LockInfo => l !== undefined);
  }
  // locks keep changing under us (many short commands): be conservative, something is running
  return [...[...loaded.values()].filter((l): l is LockInfo => l !== undefined), UNREADABLE_LOCK('(listing never settled)')];
}

/**
 * The locks that hold back the sweep of a mark written at `markTime`: every lock but a backup's (restores, checks,
 * mounts read packs that a sweep deletes and index files it replaces), and a backup's lock that started before
 * markTime + margin (it may have read the index before the mark existed and may still reference the marked packs'
 * blobs) or does not say when it started.
 */
export function blockersOf(markTime: number, locks: readonly LockInfo[]): LockInfo[] {
  return locks.filter((l) => {
    if (l.kind !== 'backup' || l.exclusive) return true;
    const started = Date.parse(l.started ?? '');
    return !Number.isFinite(started) || started < markTime + MARK_MARGIN_MS;
  });
}
