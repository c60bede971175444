export interface RestoreProgress {
  readonly type: 'progress';
  readonly elapsedMs: number;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface RestoreWarning {
  readonly type: 'warning';
  readonly path: string;
  readonly message: string;
}

export interface RestoreSummary {
  readonly type: 'summary';
  readonly elapsedMs: number;
  readonly filesRestored: number;
  readonly filesSkipped: number;
  readonly dirs: number;
  readonly bytesWritten: number;
  readonly bytesTotal: number;
  readonly deleted: number;
  readonly errors: number;
  readonly verified?: number;
  readonly verifyFailures?: number;
  readonly dryRun: boolean;
}

export type RestoreEvent = RestoreProgress | RestoreWarning | RestoreSummary;
