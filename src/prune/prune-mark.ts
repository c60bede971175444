import { IntegrityError, throwIfAborted } from '../errors.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import type { IndexedPack } from '../repository/index-format.ts';
import { BlobIdSet } from '../repository/maintenance/blob-set.ts';
import { BlobPackWriter } from '../repository/maintenance/pack-writer.ts';
import type { IndexState } from '../repository/maintenance/repo-state.ts';
import { encodeMark } from '../repository/mark-format.ts';
import type { PackBlob } from '../repository/pack-format.ts';
import { decodePayload } from '../repository/payload.ts';
import type { Repository } from '../repository/repository.ts';
import type { PruneSink } from './prune-events.ts';
import type { PackUsage } from './prune-plan.ts';

export type MarkRepo = Pick<Repository, 'backend' | 'sealer' | 'key' | 'config' | 'saveFile' | 'savePack' | 'flushIndex' | 'indexListener'>;

export interface PackAnalysis {
  /** indexed packs that exist and are not marked, in id order */
  readonly usage: PackUsage[];
  /** packs that exist, are not marked, and no index lists */
  readonly unindexed: string[];
  /** for the packs asked for: the used blobs each one keeps (is the first live holder of) */
  readonly keepers: Map<string, PackBlob[]>;
}

/**
 * Classifies the live packs (existing, not in `excluded`): each used blob is counted as used in one pack only, the
 * first in id order that holds it; its other copies count as unused. (Prefix collisions in the sets can only
 * misplace a count, which costs space but never data: the sweep checks exact ids before it deletes anything.)
 */
export function analyzePacks(state: IndexState, sizes: ReadonlyMap<string, number>, used: BlobIdSet, excluded: ReadonlySet<string>, collect?: ReadonlySet<string>): PackAnalysis {
  const claimed = new BlobIdSet(used.size);
  const usage: PackUsage[] = [];
  const keepers = new Map<string, PackBlob[]>();
  const ids = [...state.packs.keys()].filter((id) => sizes.has(id) && !excluded.has(id)).sort();
  for (const id of ids) {
    const blobs = state.packs.get(id)?.blobs ?? [];
    const kept: PackBlob[] = [];
    let usedBlobs = 0;
    let usedBytes = 0;
    let unusedBytes = 0;
    for (const b of blobs) {
      if (used.has(b.id) && claimed.add(b.id)) {
        usedBlobs++;
        usedBytes += b.length;
        kept.push(b);
      } else {
        unusedBytes += b.length;
      }
    }
    if (collect?.has(id)) keepers.set(id, kept);
    usage.push({ id, size: sizes.get(id) as number, usedBlobs, unusedBlobs: blobs.length - usedBlobs, usedBytes, unusedBytes, hasTree: blobs.some((b) => b.type === 'tree') });
  }
  const unindexed = [...sizes.keys()].filter((id) => !state.packs.has(id) && !excluded.has(id)).sort();
  return { usage, unindexed, keepers };
}

/** Decrypts one blob box and checks its length and keyed id; returns its framed payload (flag|body). */
function verified(repo: MarkRepo, box: Uint8Array, b: PackBlob): Buffer {
  const framed = repo.sealer.open(box);
  const plain = decodePayload(framed, b.rawLength);
  if (plain.length !== b.rawLength || !blobIdOf(repo.key.id, plain).equals(b.id)) throw new IntegrityError(`blob ${b.id.toString('hex')} is damaged`);
  return framed;
}

/**
 * Copies the used blobs of the packs to repack into new packs (each pack read once, every blob verified before it
 * is copied) and indexes them. A damaged blob stops the run before anything is marked: the pack needs
 * `repair packs`. Returns where the copies live.
 */
export async function repack(repo: MarkRepo, keepers: ReadonlyMap<string, readonly PackBlob[]>, o: { signal?: AbortSignal | undefined; onEvent: PruneSink; onPack?: (done: number) => void }): Promise<{ written: IndexedPack[]; packs: number; bytes: number; indexFiles: number }> {
  const writer = new BlobPackWriter(repo, { signal: o.signal, onEvent: o.onEvent, reportIndexFiles: true });
  let done = 0;
  try {
    for (const [pack, blobs] of keepers) {
      throwIfAborted(o.signal);
      if (blobs.length > 0) {
        const data = await repo.backend.load({ type: 'pack', name: pack }, undefined, o.signal ? { signal: o.signal } : undefined);
        const copies: { b: PackBlob; framed: Buffer }[] = [];
        for (const b of blobs) {
          if (writer.has(b.id.toString('hex'))) continue;
          try {
            if (b.offset + b.length > data.length) throw new IntegrityError('it lies outside the pack');
            copies.push({ b, framed: verified(repo, data.subarray(b.offset, b.offset + b.length), b) });
          } catch (e) {
            throw new IntegrityError(`pack ${pack} cannot be repacked: blob ${b.id.toString('hex')} is damaged (${(e as Error).message}); nothing was marked. Run "pybackup check --read-data" and "pybackup repair packs ${pack}" first`, { cause: e });
          }
        }
        for (const { b, framed } of copies) await writer.add(b.id, b.type, framed, b.rawLength);
      }
      o.onPack?.(++done);
    }
  } finally {
    // what was stored gets indexed even when the run stops: stored packs are never left unindexed by a clean exit
    await writer.flush();
  }
  return { written: writer.written, packs: writer.packs, bytes: writer.bytes, indexFiles: writer.indexFiles };
}

/**
 * The restated entries of a mark: a live location for every blob of the marked packs that has one — its repacked
 * copy (new packs) first, else a copy in a pack that is kept — so that catalogs keep deduplicating against it.
 */
export function restatedEntries(state: IndexState, marked: readonly string[], written: readonly IndexedPack[], kept: readonly string[]): IndexedPack[] {
  const doomed = new BlobIdSet();
  for (const id of marked) for (const b of state.packs.get(id)?.blobs ?? []) doomed.add(b.id);
  const out: IndexedPack[] = [];
  for (const p of written) {
    for (const b of p.blobs) doomed.flag(b.id);
    out.push(p);
  }
  for (const id of kept) {
    const blobs = (state.packs.get(id)?.blobs ?? []).filter((b) => doomed.flag(b.id));
    if (blobs.length > 0) out.push({ id, blobs });
  }
  return out;
}

/** Writes the mark file (sealed like an index file, in the index directory); returns its name. */
export async function writeMark(repo: Pick<Repository, 'saveFile'>, time: number, packs: readonly string[], restated: readonly IndexedPack[], signal?: AbortSignal): Promise<string> {
  return await repo.saveFile('index', encodeMark({ time, packs, restated }), signal);
}
