export interface SnapshotSummary {
  backupStart: string;
  backupEnd: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dirsNew: number;
  dirsChanged: number;
  dirsUnmodified: number;
  dataBlobs: number;
  treeBlobs: number;
  dataAdded: number;
  dataAddedPacked: number;
  totalFilesProcessed: number;
  totalBytesProcessed: number;
}

/** A snapshot file's content (JSON, sealed). `tree` is the root tree: one node per backed-up top-level path. */
export interface Snapshot {
  time: string;
  tree: string;
  paths: string[];
  hostname: string;
  username: string;
  uid: number;
  gid: number;
  tags?: string[];
  parent?: string;
  excludes?: string[];
  programVersion: string;
  summary?: SnapshotSummary;
  /** set by `repair snapshots`: the id of the damaged snapshot this one replaces */
  original?: string;
  /** set by `repair snapshots`: what the repair left out */
  repaired?: SnapshotRepair;
}

/** Paths are absolute in the snapshot's tree; a path ending in "/" is a directory whose contents were lost. */
export interface SnapshotRepair {
  removed: string[];
  /** removed paths beyond those listed */
  removedMore?: number;
}

export interface SnapshotWithId extends Snapshot {
  readonly id: string;
}
