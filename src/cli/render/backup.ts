import type { BackupEvent } from '../../archiver/events.ts';
import type { Context } from '../context.ts';
import { formatBytes, formatDuration } from './output.ts';

/** Renders backup events: a status line on a TTY, text lines, or restic-compatible NDJSON with --json. */
export function makeRenderer(c: Context): (e: BackupEvent) => void {
  const out = c.out;
  let lastBytes = 0;
  let lastT = 0;
  let rate = 0;
  return (e) => {
    switch (e.type) {
      case 'progress': {
        const totals = e.bytesTotal !== undefined && e.filesTotal !== undefined;
        const pct = totals && e.bytesTotal ? Math.min(1, e.bytesDone / e.bytesTotal) : undefined;
        if (out.json) {
          if (!out.quiet) {
            out.line({
              message_type: 'status',
              seconds_elapsed: Math.floor(e.elapsedMs / 1000),
              ...(pct !== undefined ? { percent_done: pct, total_files: e.filesTotal, total_bytes: e.bytesTotal } : {}),
              files_done: e.filesDone,
              bytes_done: e.bytesDone,
              error_count: e.errors,
              current_files: e.current,
            });
          }
          return;
        }
        const dt = e.elapsedMs - lastT;
        if (dt > 0) rate = rate === 0 ? ((e.bytesDone - lastBytes) / dt) * 1000 : rate * 0.7 + (((e.bytesDone - lastBytes) / dt) * 1000) * 0.3;
        lastBytes = e.bytesDone;
        lastT = e.elapsedMs;
        const cur = e.current[0] ? `  ${e.current[0]}` : '';
        const left = pct !== undefined && rate > 0 ? ((e.bytesTotal ?? 0) - e.bytesDone) / rate : undefined;
        const head = pct !== undefined ? `${(pct * 100).toFixed(1)}%  ${e.filesDone} / ${e.filesTotal} files  ${formatBytes(e.bytesDone)} / ${formatBytes(e.bytesTotal ?? 0)}` : `${e.filesDone} files ${formatBytes(e.bytesDone)}`;
        const eta = left !== undefined ? `  ETA ${formatDuration(left * 1000)}` : '';
        out.status(`[${formatDuration(e.elapsedMs)}] ${head}, ${formatBytes(Math.max(0, rate))}/s${eta}${e.errors ? `, ${e.errors} errors` : ''}${cur}`);
        return;
      }
      case 'warning':
        if (out.json) out.line({ message_type: 'error', error: { message: e.message }, during: 'archival', item: e.path, kind: e.kind });
        else out.warn(`${e.kind === 'changed' ? 'warning' : 'error'}: ${e.path}: ${e.message}`);
        return;
      case 'summary': {
        if (out.json) {
          out.line({
            message_type: 'summary',
            dry_run: e.dryRun,
            files_new: e.filesNew,
            files_changed: e.filesChanged,
            files_unmodified: e.filesUnmodified,
            dirs_new: e.dirsNew,
            dirs_changed: e.dirsChanged,
            dirs_unmodified: e.dirsUnmodified,
            data_blobs: e.dataBlobs,
            tree_blobs: e.treeBlobs,
            data_added: e.dataAdded,
            data_added_packed: e.dataAddedPacked,
            total_files_processed: e.totalFilesProcessed,
            total_bytes_processed: e.totalBytesProcessed,
            total_duration: (Date.parse(e.backupEnd) - Date.parse(e.backupStart)) / 1000,
            backup_start: e.backupStart,
            backup_end: e.backupEnd,
            error_count: e.errors,
            ...(e.snapshotId ? { snapshot_id: e.snapshotId } : {}),
          });
          return;
        }
        const n = (v: number): string => String(v).padStart(6);
        out.info(`Files:       ${n(e.filesNew)} new, ${n(e.filesChanged)} changed, ${n(e.filesUnmodified)} unmodified`);
        out.info(`Dirs:        ${n(e.dirsNew)} new, ${n(e.dirsChanged)} changed, ${n(e.dirsUnmodified)} unmodified`);
        out.info(`${e.dryRun ? 'Would add' : 'Added'} to the repository: ${formatBytes(e.dataAdded)} (${formatBytes(e.dataAddedPacked)} stored)`);
        out.info('');
        out.info(`processed ${e.totalFilesProcessed} files, ${formatBytes(e.totalBytesProcessed)} in ${formatDuration(Date.parse(e.backupEnd) - Date.parse(e.backupStart))}`);
        if (e.snapshotId) out.info(`snapshot ${e.snapshotId.slice(0, 8)} saved`);
        if (e.errors > 0) out.warn(`Warning: at least one source file could not be read (${e.errors} errors)`);
        return;
      }
    }
  };
}
