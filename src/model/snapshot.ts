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
}

export interface SnapshotWithId extends Snapshot {
  readonly id: string;
}
