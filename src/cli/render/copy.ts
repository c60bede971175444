import type { CopyEvent, CopySummary } from '../../archiver/copy-events.ts';
import { formatBytes, formatDuration, type Output } from './output.ts';

const short = (id: string): string => id.slice(0, 8);

/** Renders `copy` events and its summary as text (status line on a TTY) or NDJSON. */
export class CopyRenderer {
  readonly #out: Output;
  #lastStatus = 0;

  constructor(out: Output) {
    this.#out = out;
  }

  readonly onEvent = (e: CopyEvent): void => {
    const out = this.#out;
    switch (e.type) {
      case 'start':
        if (out.json) out.line({ message_type: 'copy_start', mode: e.mode, snapshots_selected: e.selected });
        else out.info(`${e.selected} snapshot(s) selected; ${e.mode === 'keep-boundaries' ? 'chunk boundaries kept (same chunker)' : 'file contents re-chunked for the destination'}`);
        return;
      case 'skipped':
        if (out.json) out.line({ message_type: 'copy_skipped', source: e.source, existing: e.existing, reason: e.reason });
        else out.info(`skipping snapshot ${short(e.source)}: already in the destination as ${short(e.existing)}`);
        return;
      case 'snapshot-start':
        if (out.json) out.line({ message_type: 'copy_snapshot', source: e.source, index: e.index, total: e.total, time: e.time, hostname: e.hostname, paths: e.paths });
        else out.info(`copying snapshot ${short(e.source)} of ${e.time} (${e.hostname}: ${e.paths.join(', ')})`);
        return;
      case 'copied':
        if (out.json) out.line({ message_type: 'copy_done', source: e.source, snapshot_id: e.destination });
        else out.info(`snapshot ${short(e.destination)} saved (copy of ${short(e.source)})`);
        return;
      case 'progress': {
        if (out.json) {
          const now = Date.now();
          if (out.quiet || now - this.#lastStatus < 1000) return;
          this.#lastStatus = now;
          out.line({ message_type: 'status', seconds_elapsed: Math.floor(e.elapsedMs / 1000), snapshots_done: e.done, total_snapshots: e.total, bytes_read: e.bytesRead, data_added: e.dataAdded });
          return;
        }
        out.status(`[${formatDuration(e.elapsedMs)}] ${e.done} / ${e.total} snapshots  ${formatBytes(e.bytesRead)} read  ${formatBytes(e.dataAdded)} added`);
      }
    }
  };

  summary(s: CopySummary): void {
    const out = this.#out;
    out.clearStatus();
    if (out.json) {
      out.line({
        message_type: 'summary',
        mode: s.mode,
        snapshots_selected: s.selected,
        snapshots_copied: s.copied,
        snapshots_skipped: s.skipped,
        snapshots: s.snapshots,
        data_blobs: s.dataBlobs,
        tree_blobs: s.treeBlobs,
        data_added: s.dataAdded,
        data_added_packed: s.dataAddedPacked,
        bytes_read: s.bytesRead,
      });
      return;
    }
    out.info(`copied ${s.copied} snapshot(s), skipped ${s.skipped} already present`);
    out.info(`added to the repository: ${formatBytes(s.dataAdded)} (${formatBytes(s.dataAddedPacked)} stored) in ${s.dataBlobs} data and ${s.treeBlobs} tree blobs; read ${formatBytes(s.bytesRead)} from the source`);
  }
}
