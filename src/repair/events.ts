/**
 * What `repair index | packs | snapshots` report. The core never prints: the plan, each change and each problem go
 * to an EventSink, and the CLI renders them as text or NDJSON. Each run first emits its plan (before it changes
 * anything; `dryRun` stops there), then one event per file written or removed, and returns a summary.
 */
import type { BlobType } from '../repository/pack-format.ts';

export type RepairPhase = 'index' | 'packs' | 'headers' | 'verify' | 'salvage' | 'snapshots' | 'trees' | 'write' | 'remove';

export type ProblemCode =
  | 'index-unreadable'
  | 'pack-header-unreadable'
  | 'pack-missing'
  | 'pack-damaged'
  | 'snapshot-unreadable'
  | 'snapshot-unrepairable';

/** Damage found on the way; `error` means something was left unrepaired (the run then fails). */
export interface RepairProblem {
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: ProblemCode;
  readonly message: string;
  readonly pack?: string;
  readonly indexFile?: string;
  readonly snapshot?: string;
  readonly hint?: string;
}

export interface IndexPlan {
  /** index files found (readable or not); all are replaced when `changed` */
  readonly indexFiles: number;
  readonly unreadableIndexFiles: number;
  /** packs stored */
  readonly packs: number;
  /** packs whose existing index entries are kept as they are */
  readonly reused: number;
  /** packs whose entries come from their own header */
  readonly fromHeaders: number;
  /** indexed packs that no longer exist: their entries are dropped */
  readonly missing: readonly string[];
  /** packs whose header is unreadable (they need `repair packs`); old entries are kept when there were any */
  readonly unreadable: readonly string[];
  readonly blobs: number;
  /** whether a new index differs from the current one (else nothing is written) */
  readonly changed: boolean;
}

export interface PackPlan {
  readonly pack: string;
  /** stored size; undefined when the pack is missing */
  readonly size: number | undefined;
  /** why it is repaired (damage found, or named by the user) */
  readonly reasons: readonly string[];
  /** distinct blobs the index or the header lists */
  readonly blobs: number;
  /** blobs that decrypt and verify: copied into new packs */
  readonly salvage: number;
  /** damaged or missing blobs that no other pack holds */
  readonly lost: number;
  /** damaged blobs that another pack also holds (nothing is lost) */
  readonly elsewhere: number;
  /** the ids of the lost blobs */
  readonly lostBlobs: readonly { readonly id: string; readonly type: BlobType }[];
}

export type SnapshotAction = 'unchanged' | 'repair' | 'already-repaired' | 'unrepairable';

export interface SnapshotPlan {
  readonly snapshot: string;
  readonly action: SnapshotAction;
  /** removed files and emptied directories (ending in "/"), at most REMOVED_LIMIT */
  readonly removed: readonly string[];
  readonly removedMore: number;
  readonly newTree?: string;
  /** for `already-repaired`: the snapshot that already holds the repair */
  readonly repairedAs?: string;
  readonly reason?: string;
}

export type RepairEvent =
  | { readonly type: 'phase'; readonly phase: RepairPhase; readonly detail?: string }
  | { readonly type: 'progress'; readonly done: number; readonly total: number; readonly bytesDone: number; readonly bytesTotal: number; readonly elapsedMs: number }
  | { readonly type: 'problem'; readonly problem: RepairProblem }
  | { readonly type: 'index-plan'; readonly plan: IndexPlan; readonly dryRun: boolean }
  | { readonly type: 'packs-plan'; readonly packs: readonly PackPlan[]; readonly dryRun: boolean }
  | { readonly type: 'snapshot-plan'; readonly plan: SnapshotPlan; readonly dryRun: boolean }
  | { readonly type: 'pack-repaired'; readonly pack: string; readonly salvaged: number; readonly lost: number }
  | { readonly type: 'written'; readonly fileType: 'pack' | 'index' | 'snapshot'; readonly name: string; readonly detail?: string }
  | { readonly type: 'removed'; readonly fileType: 'pack' | 'index' | 'snapshot'; readonly name: string };

export type RepairSink = (e: RepairEvent) => void;

export interface IndexRepairSummary {
  readonly plan: IndexPlan;
  readonly indexFilesWritten: number;
  readonly indexFilesRemoved: number;
  readonly dryRun: boolean;
  readonly elapsedMs: number;
}

export interface PacksRepairSummary {
  readonly packs: readonly PackPlan[];
  /** packs read and verified to find the damaged ones (0 when packs were named) */
  readonly packsVerified: number;
  readonly salvaged: number;
  readonly lost: number;
  readonly packsWritten: number;
  readonly indexFilesWritten: number;
  readonly indexFilesRemoved: number;
  readonly packsRemoved: number;
  readonly dryRun: boolean;
  readonly elapsedMs: number;
}

export interface SnapshotsRepairSummary {
  readonly snapshots: number;
  readonly repaired: number;
  readonly unchanged: number;
  readonly alreadyRepaired: number;
  readonly unrepairable: number;
  readonly forgotten: number;
  readonly treesWritten: number;
  readonly dryRun: boolean;
  readonly elapsedMs: number;
}

/** At most this many removed paths are listed per snapshot (in events and in the new snapshot); the rest are counted. */
export const REMOVED_LIMIT = 1000;
