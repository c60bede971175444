import { throwIfAborted } from '../../errors.ts';
import { encodeIndex, type IndexedPack } from '../index-format.ts';
import type { Repository } from '../repository.ts';
import type { MaintenanceSink } from './events.ts';

/** Like a backup's index files: one per this many packs or blobs, so no file (and no buffer) grows without bound. */
export const INDEX_FILE_PACKS = 64;
export const INDEX_FILE_BLOBS = 50_000;

/**
 * Writes index files listing `packs` (in batches), each reported; returns their names. The catalog learns them at the
 * next sync (callers sync after removing the files these replace).
 */
export async function writeIndexFiles(repo: Pick<Repository, 'saveFile'>, packs: Iterable<IndexedPack>, onEvent: MaintenanceSink, signal?: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  let batch: IndexedPack[] = [];
  let blobs = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    throwIfAborted(signal);
    const name = await repo.saveFile('index', encodeIndex(batch), signal);
    names.push(name);
    onEvent({ type: 'written', fileType: 'index', name, detail: `${batch.length} pack${batch.length === 1 ? '' : 's'}, ${blobs} blob${blobs === 1 ? '' : 's'}` });
    batch = [];
    blobs = 0;
  };
  for (const p of packs) {
    if (batch.length > 0 && (batch.length >= INDEX_FILE_PACKS || blobs + p.blobs.length > INDEX_FILE_BLOBS)) await flush();
    batch.push(p);
    blobs += p.blobs.length;
  }
  await flush();
  return names;
}
