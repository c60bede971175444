/**
 * What the checker reports. The core never prints: findings and progress go to an EventSink, and `check` renders
 * them as text or NDJSON. Severity decides the exit code: any `error` (missing or corrupt data, an unreadable index,
 * snapshot or tree) means damage; `warning` and `info` are waste or hints (unindexed packs, duplicates, unused blobs).
 */
export type Severity = 'error' | 'warning' | 'info';

export type FindingCode =
  | 'config-unreadable'
  | 'key-unreadable'
  | 'index-unreadable'
  | 'pack-missing'
  | 'pack-size-mismatch'
  | 'pack-unreadable'
  | 'pack-hash-mismatch'
  | 'pack-header-damaged'
  | 'pack-header-mismatch'
  | 'pack-unindexed'
  | 'pack-extra-blobs'
  | 'pack-in-several-indexes'
  | 'pack-marked-in-use'
  | 'blob-out-of-range'
  | 'blob-missing'
  | 'blob-damaged'
  | 'blob-duplicate'
  | 'blobs-unused'
  | 'snapshot-unreadable'
  | 'tree-damaged';

/** A place damage shows up: `snapshot` id and the path inside it ("/" = the snapshot's root). */
export interface Affected {
  readonly snapshot: string;
  readonly path: string;
}

export interface Finding {
  readonly severity: Severity;
  readonly code: FindingCode;
  /** one line, naming the objects involved */
  readonly message: string;
  readonly pack?: string;
  readonly blob?: string;
  readonly blobType?: 'data' | 'tree';
  readonly indexFile?: string;
  readonly snapshot?: string;
  /** how many blobs the finding covers (a whole pack, unused blobs) */
  readonly blobCount?: number;
  readonly bytes?: number;
  /** where the damage shows in snapshots (damage findings only), at most AFFECTED_LIMIT entries */
  readonly affected?: readonly Affected[];
  /** places beyond those listed in `affected` */
  readonly affectedMore?: number;
  /** a hint what would fix it ("repair index", "prune") */
  readonly hint?: string;
}

/** At most this many affected places are listed per finding; the rest are counted. */
export const AFFECTED_LIMIT = 50;

export type CheckPhase = 'keys' | 'index' | 'packs' | 'snapshots' | 'read-data' | 'trees' | 'paths';

export type CheckEvent =
  | { readonly type: 'phase'; readonly phase: CheckPhase; readonly detail?: string }
  | { readonly type: 'finding'; readonly finding: Finding }
  | {
      readonly type: 'progress';
      readonly phase: CheckPhase;
      readonly done: number;
      readonly total: number;
      readonly bytesDone: number;
      readonly bytesTotal: number;
      readonly elapsedMs: number;
    };

export interface CheckSummary {
  readonly indexFiles: number;
  readonly packs: number;
  readonly blobs: number;
  readonly snapshots: number;
  readonly trees: number;
  /** packs whose data was read (--read-data) */
  readonly packsRead: number;
  readonly bytesRead: number;
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
  /** packs with damage found by reading them or missing altogether */
  readonly brokenPacks: readonly string[];
  readonly suggestRepairIndex: boolean;
  readonly suggestPrune: boolean;
  readonly elapsedMs: number;
}
