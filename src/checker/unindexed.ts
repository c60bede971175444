import { PyBackupError, throwIfAborted } from '../errors.ts';
import { loadPackHeader } from '../repository/pack-header.ts';
import type { CheckRepo } from './structure.ts';

/**
 * Reads the headers of packs no index lists (two small ranged loads each) and returns blob id -> pack, so that a blob
 * missing from the index can be found again (it was written, but its index file is gone or damaged).
 * Unreadable headers are skipped: those packs are already reported as unindexed.
 */
export async function blobsInUnindexedPacks(repo: CheckRepo, packs: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [id, size] of packs) {
    throwIfAborted(signal);
    try {
      for (const b of await loadPackHeader(repo.backend, repo.sealer, id, size, signal)) out.set(b.id.toString('hex'), id);
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
    }
  }
  return out;
}
