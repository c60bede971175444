/**
 * What `prune` reports (docs/design.md §14e). The core never prints: the plan, each file written or removed and each
 * problem go to an EventSink; the CLI renders them as text or NDJSON. A run first emits its plan (before it changes
 * anything; a dry run stops there), then the changes, and returns a summary.
 */
import type { LockInfo } from '../repository/lock.ts';
import type { MaintenanceEvent } from '../repository/maintenance/events.ts';

/** restic's `--max-unused`: unused space allowed to remain, as a share of the used data or an absolute size. */
export type MaxUnused = { readonly kind: 'percent'; readonly value: number } | { readonly kind: 'bytes'; readonly value: number } | { readonly kind: 'unlimited' };

export type PrunePhase = 'index' | 'locks' | 'snapshots' | 'trees' | 'sweep' | 'repack' | 'mark';

/** An earlier mark and whether it can be swept now. */
export interface MarkPlan {
  readonly name: string;
  readonly time: number;
  readonly packs: number;
  /** live locks of other processes that started before the mark's time + margin: they hold the sweep back */
  readonly blockers: readonly LockInfo[];
  /** packs this sweep deletes (those that exist) */
  readonly deletePacks: number;
  readonly deleteBytes: number;
  /** marked packs that snapshots still need (a backup that ran while they were marked uses them): kept, unmarked */
  readonly keepPacks: number;
}

export interface PrunePlan {
  readonly snapshots: number;
  readonly usedBlobs: number;
  /** packs stored, and their bytes */
  readonly packs: number;
  readonly bytes: number;
  /** packs whose every blob is used (or that are too full to repack) */
  readonly usedPacks: number;
  /** packs holding used and unused blobs */
  readonly partlyUsedPacks: number;
  /** indexed packs without a used blob */
  readonly unusedPacks: number;
  /** stored packs no index lists (a running backup's, or left by a crash) */
  readonly unindexedPacks: number;
  /** packs an earlier prune marked */
  readonly markedEarlier: number;
  /** blob bytes used / unused in the packs that are not marked */
  readonly usedBytes: number;
  readonly unusedBytes: number;
  /** the unused bytes `--max-unused` allows */
  readonly maxUnusedBytes: number;
  readonly marks: readonly MarkPlan[];
  readonly repackPacks: number;
  readonly repackBytes: number;
  /** bytes of used blobs copied out of the repacked packs */
  readonly repackUsedBytes: number;
  /** packs the new mark lists: unused + repacked + unindexed */
  readonly markPacks: number;
  readonly markBytes: number;
  /** bytes the sweep of earlier marks frees in this run */
  readonly freedNow: number;
  /** bytes the new mark frees once swept (its packs minus the repacked copies) */
  readonly freedLater: number;
  /** unused bytes left in packs that are kept */
  readonly unusedAfter: number;
}

export type PruneEvent =
  | MaintenanceEvent
  | { readonly type: 'phase'; readonly phase: PrunePhase; readonly detail?: string }
  | { readonly type: 'progress'; readonly phase: PrunePhase; readonly done: number; readonly total: number; readonly elapsedMs: number }
  | { readonly type: 'plan'; readonly plan: PrunePlan; readonly dryRun: boolean }
  | { readonly type: 'mark-written'; readonly name: string; readonly packs: number; readonly restated: number }
  | { readonly type: 'mark-removed'; readonly name: string }
  | { readonly type: 'swept'; readonly mark: string; readonly deleted: number; readonly kept: number; readonly bytes: number }
  | { readonly type: 'mark-blocked'; readonly mark: string; readonly blockers: readonly LockInfo[] };

export type PruneSink = (e: PruneEvent) => void;

export interface PruneSummary {
  readonly plan: PrunePlan;
  readonly dryRun: boolean;
  readonly packsDeleted: number;
  readonly bytesFreed: number;
  readonly packsWritten: number;
  readonly indexFilesWritten: number;
  readonly indexFilesRemoved: number;
  readonly marksWritten: number;
  readonly marksRemoved: number;
  /** packs marked and left for the next prune (their bytes), because other processes were running */
  readonly packsPending: number;
  readonly bytesPending: number;
  readonly elapsedMs: number;
}
