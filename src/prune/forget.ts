import { NotFoundError } from '../backend/backend.ts';
import { throwIfAborted } from '../errors.ts';
import type { Repository } from '../repository/repository.ts';

type ForgetRepo = Pick<Repository, 'backend' | 'assertMayDelete'>;

export interface ForgetResult {
  readonly removed: string[];
  readonly failed: string[];
}

const CONCURRENCY = 8;

/**
 * Deletes snapshot files (forget). Refuses in an append-only repository before deleting anything. A snapshot file
 * that is already gone counts as removed; other failures are reported through `onError` and listed in `failed`,
 * and the remaining snapshots are still removed (restic does the same and exits 3). Only the snapshot files go:
 * the data they referenced stays until prune.
 */
export async function forgetSnapshots(repo: ForgetRepo, ids: readonly string[], o: { signal?: AbortSignal; onError?: (id: string, e: unknown) => void } = {}): Promise<ForgetResult> {
  const result: ForgetResult = { removed: [], failed: [] };
  if (ids.length === 0) return result;
  repo.assertMayDelete(`forget (removing ${ids.length} snapshot${ids.length === 1 ? '' : 's'})`);
  const queue = [...new Set(ids)];
  const opts = o.signal ? { signal: o.signal } : undefined;
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      throwIfAborted(o.signal);
      try {
        await repo.backend.remove({ type: 'snapshot', name: id }, opts);
        result.removed.push(id);
      } catch (e) {
        if (e instanceof NotFoundError) {
          result.removed.push(id);
          continue;
        }
        if ((e as { code?: string }).code === 'ABORTED' || (e as { code?: string }).code === 'APPEND_ONLY') throw e;
        result.failed.push(id);
        o.onError?.(id, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  result.removed.sort();
  result.failed.sort();
  return result;
}
