/** What `pybackup watch` reports; the CLI renders these as a status line, log lines or NDJSON. */
export type WatchEvent =
  | { readonly type: 'watching'; readonly roots: readonly string[]; readonly quietMs: number; readonly rescanMs: number }
  /** changes are waiting for the quiet period (sent when the count grows, not per file) */
  | { readonly type: 'pending'; readonly dirs: number; readonly full: boolean; readonly backupInMs: number }
  | { readonly type: 'backup-start'; readonly kind: 'full' | 'partial'; readonly reason: string; readonly dirs: number }
  | {
      readonly type: 'backup-done';
      readonly kind: 'full' | 'partial';
      /** the snapshot saved, or undefined when nothing had changed (the parent still describes the files) */
      readonly snapshotId: string | undefined;
      readonly dataAdded: number;
      readonly durationMs: number;
      readonly errors: number;
    }
  | { readonly type: 'backup-failed'; readonly kind: 'full' | 'partial'; readonly message: string; readonly retryInMs: number }
  | { readonly type: 'root-lost'; readonly root: string }
  | { readonly type: 'root-back'; readonly root: string }
  /** the change notifications failed (e.g. the inotify watch limit): periodic rescans carry on alone */
  | { readonly type: 'watch-error'; readonly root: string; readonly message: string }
  | { readonly type: 'stopped' };
