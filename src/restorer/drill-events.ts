/** Events of a restore drill (src/restorer/drill.ts); the CLI renders them as text or NDJSON. */
export interface DrillSnapshotInfo {
  readonly id: string;
  readonly time: string;
  readonly hostname: string;
  readonly paths: readonly string[];
}

export interface DrillStart {
  readonly type: 'start';
  readonly snapshots: readonly DrillSnapshotInfo[];
  readonly seed: string;
  /** the temporary directory the sample is restored into */
  readonly target: string;
}

/** The sample is chosen: `filesSampled` of the `filesSeen` files and symlinks of the snapshots. */
export interface DrillSampled {
  readonly type: 'sampled';
  readonly filesSeen: number;
  readonly filesSampled: number;
  readonly bytes: number;
}

export interface DrillProgress {
  readonly type: 'progress';
  readonly phase: 'sample' | 'restore' | 'verify';
  readonly elapsedMs: number;
  readonly done: number;
  /** 0 while the total is not known (sampling) */
  readonly total: number;
}

/** One sampled entry that failed: not restored, or restored differently from what its snapshot records. */
export interface DrillFailure {
  readonly type: 'failure';
  readonly snapshot: string;
  readonly path: string;
  readonly problems: readonly string[];
}

/** Something that is not a sampled file's failure: an unreadable snapshot file, a restore error elsewhere, a limit. */
export interface DrillWarning {
  readonly type: 'warning';
  readonly message: string;
  /** counts as an error (makes the drill fail) */
  readonly error: boolean;
}

export interface DrillSummary {
  readonly type: 'summary';
  readonly snapshots: number;
  readonly filesSeen: number;
  readonly filesSampled: number;
  readonly bytes: number;
  readonly passed: number;
  readonly failed: number;
  /** errors not tied to a sampled file (unreadable trees, restore errors on directories) */
  readonly errors: number;
  readonly elapsedMs: number;
  readonly seed: string;
  readonly target: string;
  readonly kept: boolean;
}

export type DrillEvent = DrillStart | DrillSampled | DrillProgress | DrillFailure | DrillWarning | DrillSummary;
