import { PyBackupError, throwIfAborted } from '../errors.ts';
import type { IndexedPack } from '../repository/index-format.ts';
import { type PackBlob, packTrailerSize } from '../repository/pack-format.ts';
import { loadPackHeader } from '../repository/pack-header.ts';
import type { Repository } from '../repository/repository.ts';
import type { IndexPlan, IndexRepairSummary, RepairPhase, RepairSink } from './events.ts';
import { writeIndexFiles } from '../repository/maintenance/index-writer.ts';
import { listPackSizes, loadIndexState, reason, removeFiles, sameEntries } from '../repository/maintenance/repo-state.ts';

export type IndexRepairRepo = Pick<Repository, 'backend' | 'sealer' | 'loadFile' | 'saveFile' | 'syncCatalog' | 'assertMayDelete'>;

export interface IndexRepairOptions {
  /** read every pack's header, even where the index already describes the pack consistently */
  readonly readAllPacks?: boolean;
  /** plan only: read, report, change nothing */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent: RepairSink;
}

const REPAIR_PACKS_HINT = 'run "pybackup repair packs <pack>" to salvage its blobs';

/** The size a pack with these entries has when it is intact: its blobs, then its header and the header's length. */
function plausible(blobs: readonly PackBlob[], size: number): boolean {
  let end = 0;
  for (const b of blobs) end = Math.max(end, b.offset + b.length);
  return size === end + packTrailerSize(blobs.length);
}

/**
 * `repair index`: rebuilds the index from the packs that exist. A pack the current index describes consistently
 * (it exists with the size its entries imply) keeps its entries unless `readAllPacks`; every other pack's entries
 * come from its own header (two ranged loads). Entries of missing packs are dropped. A pack whose header is
 * unreadable keeps the entries it had (so `repair packs` can still salvage it) and is reported.
 * Write order: the new index files first, then the old ones are removed, so a crash in between leaves every pack
 * indexed (twice at worst, which is harmless). Nothing is written when the index would not change.
 */
export async function repairIndex(repo: IndexRepairRepo, o: IndexRepairOptions): Promise<IndexRepairSummary> {
  const t0 = Date.now();
  const { signal, onEvent } = o;
  const phase = (p: RepairPhase, detail?: string): void => onEvent({ type: 'phase', phase: p, ...(detail !== undefined ? { detail } : {}) });

  phase('index');
  const state = await loadIndexState(repo, onEvent, signal);
  phase('packs');
  const sizes = await listPackSizes(repo, signal);
  const ids = [...sizes.keys()].sort();
  const reusable = (id: string): boolean => {
    const known = state.packs.get(id);
    return !o.readAllPacks && known !== undefined && plausible(known.blobs, sizes.get(id) ?? -1);
  };
  const toRead = ids.filter((id) => !reusable(id));
  let changed = state.unreadable.length > 0;
  const next: IndexedPack[] = [];
  const unreadable: string[] = [];
  let reused = 0;
  let fromHeaders = 0;
  let done = 0;
  let bytesDone = 0;
  const bytesTotal = toRead.reduce((a, id) => a + (sizes.get(id) ?? 0), 0);

  if (toRead.length > 0) phase('headers', `${toRead.length} of ${ids.length} packs`);
  for (const id of ids) {
    throwIfAborted(signal);
    const size = sizes.get(id) as number;
    const known = state.packs.get(id);
    if (known && known.files.length > 1) changed = true;
    if (reusable(id) && known) {
      next.push({ id, blobs: known.blobs });
      reused++;
      continue;
    }
    try {
      const header = await loadPackHeader(repo.backend, repo.sealer, id, size, signal);
      fromHeaders++;
      if (!known || !sameEntries(known.blobs, header)) changed = true;
      next.push({ id, blobs: header });
    } catch (e) {
      if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
      unreadable.push(id);
      if (known) {
        next.push({ id, blobs: known.blobs });
        const message = `pack ${id}: its header is unreadable (${reason(e)}); its ${known.blobs.length} index entries are kept`;
        onEvent({ type: 'problem', problem: { severity: 'error', code: 'pack-header-unreadable', pack: id, message, hint: REPAIR_PACKS_HINT } });
      } else {
        const message = `pack ${id} cannot be indexed: its header is unreadable (${reason(e)}) and no index lists it`;
        onEvent({ type: 'problem', problem: { severity: 'error', code: 'pack-header-unreadable', pack: id, message, hint: REPAIR_PACKS_HINT } });
      }
    }
    done++;
    bytesDone += size;
    onEvent({ type: 'progress', done, total: toRead.length, bytesDone, bytesTotal, elapsedMs: Date.now() - t0 });
  }

  const missing = [...state.packs.keys()].filter((id) => !sizes.has(id)).sort();
  for (const id of missing) {
    changed = true;
    const files = state.packs.get(id)?.files.join(', ') ?? '?';
    onEvent({ type: 'problem', problem: { severity: 'info', code: 'pack-missing', pack: id, message: `pack ${id} (listed by index file ${files}) does not exist: its entries are dropped` } });
  }

  const plan: IndexPlan = {
    indexFiles: state.names.length - state.marks.length,
    unreadableIndexFiles: state.unreadable.length,
    packs: ids.length,
    reused,
    fromHeaders,
    missing,
    unreadable,
    blobs: next.reduce((a, p) => a + p.blobs.length, 0),
    changed,
  };
  onEvent({ type: 'index-plan', plan, dryRun: !!o.dryRun });
  const summary = (written: number, removed: number): IndexRepairSummary => ({ plan, indexFilesWritten: written, indexFilesRemoved: removed, dryRun: !!o.dryRun, elapsedMs: Date.now() - t0 });
  if (o.dryRun || !changed) return summary(0, 0);

  repo.assertMayDelete('repair index');
  phase('write');
  const written = await writeIndexFiles(repo, next, onEvent, signal);
  phase('remove');
  // a prune's mark files share the index directory: they are kept (the packs they mark are indexed as any other)
  const keep = new Set([...written, ...state.marks.map((m) => m.name)]);
  const removed = await removeFiles(repo, 'index', state.names.filter((n) => !keep.has(n)), onEvent, signal);
  await repo.syncCatalog(signal);
  return summary(written.length, removed);
}
