import type { Snapshot, SnapshotSummary, SnapshotWithId } from '../model/snapshot.ts';

/** What every kind of backup records about itself. */
export interface SnapshotMeta {
  readonly hostname: string;
  readonly username: string;
  readonly uid: number;
  readonly gid: number;
  readonly tags?: readonly string[];
  readonly time?: Date;
  readonly parent?: SnapshotWithId;
  readonly programVersion: string;
}

export function composeSnapshot(m: SnapshotMeta, tree: string, paths: readonly string[], summary: SnapshotSummary, excludes?: readonly string[]): Snapshot {
  const s: Snapshot = {
    time: (m.time ?? new Date(summary.backupStart)).toISOString(),
    tree,
    paths: [...paths],
    hostname: m.hostname,
    username: m.username,
    uid: m.uid,
    gid: m.gid,
    programVersion: m.programVersion,
    summary,
  };
  if (m.tags?.length) s.tags = [...m.tags];
  if (m.parent) s.parent = m.parent.id;
  if (excludes?.length) s.excludes = [...excludes];
  return s;
}
