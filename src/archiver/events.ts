import type { SnapshotSummary } from '../model/snapshot.ts';

export interface BackupProgress {
  readonly type: 'progress';
  readonly elapsedMs: number;
  readonly filesDone: number;
  readonly dirsDone: number;
  readonly bytesDone: number;
  readonly filesTotal?: number;
  readonly bytesTotal?: number;
  readonly errors: number;
  readonly current: readonly string[];
}

export interface BackupWarning {
  readonly type: 'warning';
  readonly path: string;
  readonly message: string;
  /** 'unreadable' files make the run exit 3; 'changed' are reported only */
  readonly kind: 'unreadable' | 'changed' | 'vanished' | 'other';
}

export interface BackupSummary extends SnapshotSummary {
  readonly type: 'summary';
  readonly snapshotId?: string;
  readonly dryRun: boolean;
  readonly errors: number;
}

export type BackupEvent = BackupProgress | BackupWarning | BackupSummary;
