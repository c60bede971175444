import { PyBackupError, throwIfAborted } from '../errors.ts';
import { decodePayload } from '../repository/payload.ts';
import { HEADER_AAD, parsePackHeader } from '../repository/pack-format.ts';
import type { CheckRepo } from './structure.ts';

/**
 * Reads the headers of packs no index lists (two small ranged loads each) and returns blob id -> pack, so that a blob
 * missing from the index can be found again (it was written, but its index file is gone or damaged).
 * Unreadable headers are skipped: those packs are already reported as unindexed.
 */
export async function blobsInUnindexedPacks(repo: CheckRepo, packs: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const opts = signal ? { signal } : undefined;
  for (const [id, size] of packs) {
    throwIfAborted(signal);
    try {
      if (size < 4) continue;
      const tail = Buffer.from(await repo.backend.load({ type: 'pack', name: id }, { offset: size - 4, length: 4 }, opts));
      const hlen = tail.readUInt32LE(0);
      if (hlen > size - 4) continue;
      const box = await repo.backend.load({ type: 'pack', name: id }, { offset: size - 4 - hlen, length: hlen }, opts);
      for (const b of parsePackHeader(decodePayload(repo.sealer.open(box, HEADER_AAD)), size - 4 - hlen)) out.set(b.id.toString('hex'), id);
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
    }
  }
  return out;
}
