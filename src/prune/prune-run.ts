import type { LockInfo } from '../repository/lock.ts';
import { type IndexState, listPackSizes, loadIndexState, markedPacks } from '../repository/maintenance/repo-state.ts';
import type { Repository } from '../repository/repository.ts';
import type { MarkPlan, MaxUnused, PrunePhase, PrunePlan, PruneSink, PruneSummary } from './prune-events.ts';
import { blockersOf, liveForeignLocks } from './prune-locks.ts';
import { type MarkRepo, analyzePacks, repack, restatedEntries, writeMark } from './prune-mark.ts';
import { choosePacks } from './prune-plan.ts';
import { type SweepResult, executeSweep, planSweep } from './prune-sweep.ts';
import { PruneRefusedError, UsedBlobs, type UsedRepo, loadSnapshotRoots, missingUsed, treeLocations } from './prune-used.ts';

export type PruneRepo = MarkRepo & UsedRepo & Pick<Repository, 'loadFile' | 'syncCatalog' | 'assertMayDelete'>;

export interface PruneOptions {
  /** unused space allowed to remain (default 5 %) */
  readonly maxUnused?: MaxUnused;
  /** at most this many stored bytes are repacked */
  readonly maxRepackSize?: number;
  /** plan only: read, report, change nothing */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent: PruneSink;
  /** this process's own lock files, which never hold back a sweep */
  readonly ownLock?: (name: string) => boolean;
  /** the clock (tests) */
  readonly now?: () => number;
}

export const DEFAULT_MAX_UNUSED: MaxUnused = { kind: 'percent', value: 5 };

const NO_SWEEP: SweepResult = { done: true, packsDeleted: 0, bytesFreed: 0, indexFilesWritten: 0, indexFilesRemoved: 0, marksRemoved: 0 };

function refuseUnreadable(state: IndexState): void {
  if (state.unreadable.length > 0) throw new PruneRefusedError(`${state.unreadable.length} index file(s) are unreadable (${state.unreadable.slice(0, 3).join(', ')})`);
}

/**
 * The used set's inputs, read in the order the safety argument needs (§14e): the snapshots not seen yet first, then
 * the index files (so every listed snapshot's index files are among them: index files are written before the
 * snapshots that need them), then the pack listing.
 */
async function readRepository(repo: PruneRepo, seen: Set<string>, emit: PruneSink, signal: AbortSignal | undefined, previous?: IndexState): Promise<{ roots: string[]; state: IndexState; sizes: Map<string, number> }> {
  const snapshots = await loadSnapshotRoots(repo, seen, signal);
  for (const r of snapshots) seen.add(r.id);
  const state = await loadIndexState(repo, emit, signal, previous);
  refuseUnreadable(state);
  const sizes = await listPackSizes(repo, signal);
  return { roots: snapshots.map((r) => r.tree), state, sizes };
}

/** Walks `roots` into `used`; refuses when a used blob has no indexed location in a stored pack. */
async function walkUsed(used: UsedBlobs, roots: readonly string[], state: IndexState, sizes: ReadonlyMap<string, number>, emit: PruneSink, signal?: AbortSignal): Promise<void> {
  const t0 = Date.now();
  await used.walk(roots, treeLocations(state, sizes), { signal, onTree: (n) => emit({ type: 'progress', phase: 'trees', done: n, total: 0, elapsedMs: Date.now() - t0 }) });
  const missing = missingUsed(used.ids, state, sizes);
  if (missing > 0) throw new PruneRefusedError(`${missing} blob(s) that snapshots use are in no index file, or only in packs that do not exist`);
}

/**
 * `prune` (docs/design.md §14e): two phases, safe beside running backups. Under a prune lock (which coexists with
 * backups' shared locks) it (1) sweeps earlier marks that no running process can still depend on — deleting their
 * packs unless a snapshot now uses a blob in them that no live pack holds — and (2) marks what is unused now:
 * packs without used blobs, packs no index lists, and partly used packs chosen for repacking (their used blobs are
 * copied into new packs first). (3) When no other process that started before the new mark is running, the new mark
 * is swept at once; otherwise the next prune sweeps it. Refuses in an append-only repository unless `dryRun`.
 */
export async function prune(repo: PruneRepo, o: PruneOptions): Promise<PruneSummary> {
  const t0 = Date.now();
  const { signal, onEvent: emit } = o;
  const now = o.now ?? Date.now;
  const own = o.ownLock ?? ((): boolean => false);
  const phase = (p: PrunePhase, detail?: string): void => emit({ type: 'phase', phase: p, ...(detail !== undefined ? { detail } : {}) });
  if (!o.dryRun) repo.assertMayDelete('prune');
  /** asked again right before a sweep deletes: whether the marks written at `times` are still free to sweep */
  let lateBlockers: LockInfo[] = [];
  const stillFree = (times: readonly number[]) => async (): Promise<boolean> => {
    const locks = await liveForeignLocks(repo, own, signal, now());
    lateBlockers = [...new Set(times.flatMap((t) => blockersOf(t, locks)))];
    return lateBlockers.length === 0;
  };

  phase('index');
  let state = await loadIndexState(repo, emit, signal);
  refuseUnreadable(state);
  // which earlier marks may be swept is decided before the snapshots are listed (§14e)
  phase('locks');
  const locks = await liveForeignLocks(repo, own, signal, now());
  const marks = state.marks.map((m) => ({ ...m, blockers: blockersOf(m.mark.time, locks) }));
  phase('snapshots');
  const seen = new Set<string>();
  const first = await readRepository(repo, seen, emit, signal, state);
  state = first.state;
  let sizes = first.sizes;
  phase('trees');
  const used = new UsedBlobs(repo);
  await walkUsed(used, first.roots, state, sizes, emit, signal);

  const sweeping = marks.filter((m) => m.blockers.length === 0);
  const sweep = planSweep(state, sizes, used.ids, sweeping);
  const excluded = markedPacks(state);
  const analysis = analyzePacks(state, sizes, used.ids, excluded);
  const choice = choosePacks(analysis.usage, { maxUnused: o.maxUnused ?? DEFAULT_MAX_UNUSED, packSize: repo.config.packSize, ...(o.maxRepackSize !== undefined ? { maxRepackSize: o.maxRepackSize } : {}) });
  const byAction = (a: string): string[] => analysis.usage.filter((p) => choice.actions.get(p.id) === a).map((p) => p.id);
  const [unusedIds, repackIds, keptIds] = [byAction('mark'), byAction('repack'), byAction('keep')];
  const markIds = [...unusedIds, ...repackIds, ...analysis.unindexed];
  const size = (ids: Iterable<string>): number => [...ids].reduce((a, id) => a + (sizes.get(id) ?? 0), 0);
  const markPlans: MarkPlan[] = marks.map((m) => {
    const pm = sweep.perMark.get(m.name);
    return { name: m.name, time: m.mark.time, packs: m.mark.packs.length, blockers: m.blockers, deletePacks: pm?.deleted ?? 0, deleteBytes: pm?.bytes ?? 0, keepPacks: pm?.kept ?? 0 };
  });
  const plan: PrunePlan = {
    snapshots: seen.size,
    usedBlobs: used.ids.size,
    packs: sizes.size,
    bytes: size(sizes.keys()),
    usedPacks: keptIds.filter((id) => choice.reasons.get(id) === 'fully used').length,
    partlyUsedPacks: analysis.usage.filter((p) => p.usedBlobs > 0 && p.unusedBlobs > 0).length,
    unusedPacks: unusedIds.length,
    unindexedPacks: analysis.unindexed.length,
    markedEarlier: [...excluded].filter((id) => sizes.has(id)).length,
    usedBytes: choice.usedBytes,
    unusedBytes: choice.unusedBytes,
    maxUnusedBytes: choice.maxUnusedBytes,
    marks: markPlans,
    repackPacks: repackIds.length,
    repackBytes: choice.repackBytes,
    repackUsedBytes: choice.repackUsedBytes,
    markPacks: markIds.length,
    markBytes: size(markIds),
    freedNow: sweep.bytes,
    freedLater: Math.max(0, size(markIds) - choice.repackUsedBytes),
    unusedAfter: choice.unusedAfter,
  };
  emit({ type: 'plan', plan, dryRun: !!o.dryRun });
  const summary = (s: Partial<PruneSummary> = {}): PruneSummary => ({
    plan, dryRun: !!o.dryRun, packsDeleted: 0, bytesFreed: 0, packsWritten: 0, indexFilesWritten: 0, indexFilesRemoved: 0, marksWritten: 0, marksRemoved: 0, packsPending: 0, bytesPending: 0, elapsedMs: Date.now() - t0, ...s,
  });
  if (o.dryRun) return summary();

  let swept = NO_SWEEP;
  if (sweeping.length > 0) {
    phase('sweep', `${sweeping.length} earlier mark${sweeping.length === 1 ? '' : 's'}`);
    swept = await executeSweep(repo, state, sizes, sweep, emit, signal, stillFree(sweeping.map((m) => m.mark.time)));
  }
  for (const m of marks) if (m.blockers.length > 0 || !swept.done) emit({ type: 'mark-blocked', mark: m.name, blockers: m.blockers.length > 0 ? m.blockers : lateBlockers });
  const { done: _, ...sweptCounts } = swept;
  if (markIds.length === 0) {
    if (swept.marksRemoved > 0) await repo.syncCatalog(signal);
    return summary(sweptCounts);
  }

  if (repackIds.length > 0) phase('repack', `${repackIds.length} pack${repackIds.length === 1 ? '' : 's'}`);
  const keepers = analyzePacks(state, sizes, used.ids, excluded, new Set(repackIds)).keepers;
  const t1 = Date.now();
  const r = await repack(repo, keepers, { signal, onEvent: emit, onPack: (done) => emit({ type: 'progress', phase: 'repack', done, total: repackIds.length, elapsedMs: Date.now() - t1 }) });
  phase('mark', `${markIds.length} packs`);
  const restated = restatedEntries(state, [...unusedIds, ...repackIds], r.written, keptIds);
  const markTime = now();
  const markName = await writeMark(repo, markTime, markIds, restated, signal);
  emit({ type: 'mark-written', name: markName, packs: markIds.length, restated: restated.reduce((a, p) => a + p.blobs.length, 0) });
  await repo.syncCatalog(signal);
  const done = { ...sweptCounts, packsWritten: r.packs, indexFilesWritten: swept.indexFilesWritten + r.indexFiles, marksWritten: 1 };

  const blockers = blockersOf(markTime, await liveForeignLocks(repo, own, signal, now()));
  if (blockers.length > 0) {
    emit({ type: 'mark-blocked', mark: markName, blockers });
    return summary({ ...done, packsPending: markIds.length, bytesPending: Math.max(0, size(markIds) - r.bytes) });
  }
  // nothing that started before the mark is running: sweep it now, on a used set that includes every snapshot
  // written meanwhile (the index, and the pack listing, are read again: the first sweep changed them)
  phase('sweep', 'the new mark');
  const again = await readRepository(repo, seen, emit, signal);
  [state, sizes] = [again.state, again.sizes];
  await walkUsed(used, again.roots, state, sizes, emit, signal);
  const mine = state.marks.filter((m) => m.name === markName);
  const now2 = await executeSweep(repo, state, sizes, planSweep(state, sizes, used.ids, mine), emit, signal, stillFree([markTime]));
  if (!now2.done) emit({ type: 'mark-blocked', mark: markName, blockers: lateBlockers });
  await repo.syncCatalog(signal);
  return summary({
    ...done,
    ...(now2.done ? {} : { packsPending: markIds.length, bytesPending: Math.max(0, size(markIds) - r.bytes) }),
    packsDeleted: swept.packsDeleted + now2.packsDeleted,
    bytesFreed: swept.bytesFreed + now2.bytesFreed,
    indexFilesWritten: done.indexFilesWritten + now2.indexFilesWritten,
    indexFilesRemoved: swept.indexFilesRemoved + now2.indexFilesRemoved,
    marksRemoved: swept.marksRemoved + now2.marksRemoved,
  });
}
