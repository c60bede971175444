import type { IndexedPack } from '../repository/index-format.ts';
import { BlobIdSet } from '../repository/maintenance/blob-set.ts';
import { writeIndexFiles } from '../repository/maintenance/index-writer.ts';
import { type IndexState, markedPacks, removeFiles } from '../repository/maintenance/repo-state.ts';
import type { Mark } from '../repository/mark-format.ts';
import type { Repository } from '../repository/repository.ts';
import type { PruneSink } from './prune-events.ts';

export type SweepRepo = Pick<Repository, 'backend' | 'saveFile'>;

export interface SweepDecision {
  /** the mark files swept (removed at the end) */
  readonly marks: readonly string[];
  /** marked packs to delete; a pack that is already gone only loses its index entries */
  readonly remove: ReadonlySet<string>;
  /** marked packs snapshots still need: not deleted, and unmarked when the mark file goes */
  readonly keep: ReadonlySet<string>;
  /** per mark: packs deleted (that exist), kept, bytes freed */
  readonly perMark: ReadonlyMap<string, { deleted: number; kept: number; bytes: number }>;
  readonly bytes: number;
}

/**
 * Which packs of the marks being swept can go (pure). A marked pack is deleted unless a used blob in it has no live
 * location: a copy in a pack that exists, is indexed, and is not marked by any mark. This is the decision that
 * deletes data, so it compares exact ids; the used set's prefix collisions can only add used blobs (keep more). A marked pack no index lists is
 * deleted without looking inside: every used blob has an indexed location in an existing pack (checked before, see
 * missingUsed), so such a pack holds no used blob's last copy. `used` must come from snapshots listed after the
 * marks were found sweepable.
 */
export function planSweep(state: IndexState, sizes: ReadonlyMap<string, number>, used: BlobIdSet, sweeping: readonly { name: string; mark: Mark }[]): SweepDecision {
  const allMarked = markedPacks(state);
  const names = new Set(sweeping.map((s) => s.name));
  // a pack that a mark not being swept lists too waits for that mark (never the case for marks prune writes)
  const held = new Set(state.marks.filter((m) => !names.has(m.name)).flatMap((m) => m.mark.packs));
  // used blobs in the packs to sweep, by exact id -> whether a live location holds them too. Exact ids (not the
  // used set's 64-bit prefixes) so that a prefix collision can never pass for a live copy.
  const needed = new Map<string, boolean>();
  for (const { mark } of sweeping) {
    for (const pack of mark.packs) {
      if (!sizes.has(pack) || held.has(pack)) continue;
      for (const b of state.packs.get(pack)?.blobs ?? []) if (used.has(b.id)) needed.set(b.id.toString('hex'), false);
    }
  }
  if (needed.size > 0) {
    const filter = new BlobIdSet(needed.size);
    for (const hex of needed.keys()) filter.add(hex);
    for (const [pack, p] of state.packs) {
      if (!sizes.has(pack) || allMarked.has(pack)) continue;
      for (const b of p.blobs) {
        if (!filter.has(b.id)) continue;
        const hex = b.id.toString('hex');
        if (needed.has(hex)) needed.set(hex, true);
      }
    }
  }
  const remove = new Set<string>();
  const keep = new Set<string>();
  const perMark = new Map<string, { deleted: number; kept: number; bytes: number }>();
  let bytes = 0;
  for (const { name, mark } of sweeping) {
    const m = { deleted: 0, kept: 0, bytes: 0 };
    for (const pack of mark.packs) {
      if (remove.has(pack) || keep.has(pack) || held.has(pack)) continue;
      const size = sizes.get(pack);
      const blobs = size === undefined ? [] : (state.packs.get(pack)?.blobs ?? []);
      if (blobs.some((b) => needed.get(b.id.toString('hex')) === false)) {
        keep.add(pack);
        m.kept++;
        continue;
      }
      remove.add(pack);
      if (size !== undefined) {
        m.deleted++;
        m.bytes += size;
        bytes += size;
      }
    }
    perMark.set(name, m);
  }
  return { marks: sweeping.map((s) => s.name), remove, keep, perMark, bytes };
}

export interface SweepResult {
  /** false when a process that holds the sweep back started meanwhile: nothing was deleted */
  readonly done: boolean;
  readonly packsDeleted: number;
  readonly bytesFreed: number;
  readonly indexFilesWritten: number;
  readonly indexFilesRemoved: number;
  readonly marksRemoved: number;
}

/**
 * Carries out a sweep. Order: index files replacing those that list a pack to delete (their other packs) -> the
 * packs -> the replaced index files -> the mark files. Until the last step the marks stay, so a crash anywhere
 * leaves marks the next prune sweeps again; a deleted pack whose index entries remain is known to have been swept
 * because a mark lists it (check reports it as information). No index file ever loses an entry of a pack that stays.
 * `stillSweepable` is asked right before the first deletion, so that a reader that started since the decision (a
 * restore, a check) holds the deletions back; it can only find the extra index files then, which are harmless.
 */
export async function executeSweep(repo: SweepRepo, state: IndexState, sizes: ReadonlyMap<string, number>, d: SweepDecision, onEvent: PruneSink, signal?: AbortSignal, stillSweepable?: () => Promise<boolean>): Promise<SweepResult> {
  const superseded = state.files.filter((f) => f.packs.some((p) => d.remove.has(p.id)));
  const supersededNames = new Set(superseded.map((f) => f.name));
  const keptElsewhere = new Set<string>();
  for (const f of state.files) if (!supersededNames.has(f.name)) for (const p of f.packs) keptElsewhere.add(p.id);
  const remaining = new Map<string, IndexedPack>();
  for (const f of superseded) {
    for (const p of f.packs) if (!d.remove.has(p.id) && !keptElsewhere.has(p.id) && !remaining.has(p.id)) remaining.set(p.id, p);
  }
  const written = await writeIndexFiles(repo, remaining.values(), onEvent, signal);
  if (stillSweepable && !(await stillSweepable())) return { done: false, packsDeleted: 0, bytesFreed: 0, indexFilesWritten: written.length, indexFilesRemoved: 0, marksRemoved: 0 };
  const packsDeleted = await removeFiles(repo, 'pack', [...d.remove].filter((id) => sizes.has(id)).sort(), onEvent, signal);
  const keep = new Set(written);
  const indexFilesRemoved = await removeFiles(repo, 'index', [...supersededNames].filter((n) => !keep.has(n)), onEvent, signal);
  for (const name of d.marks) {
    await repo.backend.remove({ type: 'index', name }, signal ? { signal } : undefined);
    onEvent({ type: 'mark-removed', name });
    const m = d.perMark.get(name);
    if (m) onEvent({ type: 'swept', mark: name, deleted: m.deleted, kept: m.kept, bytes: m.bytes });
  }
  return { done: true, packsDeleted, bytesFreed: d.bytes, indexFilesWritten: written.length, indexFilesRemoved, marksRemoved: d.marks.length };
}
