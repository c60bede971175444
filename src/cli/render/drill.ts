import type { DrillEvent } from '../../restorer/drill-events.ts';
import { formatBytes, formatDuration, type Output } from './output.ts';

const PHASE = { sample: 'sampling', restore: 'restoring', verify: 'verifying' } as const;

/** Renders drill events as text (failures to stderr, status line on a TTY) or NDJSON (one object per event). */
export class DrillRenderer {
  readonly #out: Output;

  constructor(out: Output) {
    this.#out = out;
  }

  readonly onEvent = (e: DrillEvent): void => {
    const out = this.#out;
    if (out.json) {
      this.#json(e);
      return;
    }
    switch (e.type) {
      case 'start':
        out.info(`drilling ${e.snapshots.length} snapshot${e.snapshots.length === 1 ? '' : 's'} (seed ${e.seed}):`);
        for (const s of e.snapshots) out.info(`  ${s.id.slice(0, 8)}  ${s.time}  ${s.hostname}  ${s.paths.join(', ')}`);
        return;
      case 'sampled':
        out.info(`sampled ${e.filesSampled} of ${e.filesSeen} files (${formatBytes(e.bytes)})`);
        return;
      case 'progress':
        out.status(`[${formatDuration(e.elapsedMs)}] ${PHASE[e.phase]} ${e.done}${e.total ? ` / ${e.total}` : ''} files`);
        return;
      case 'failure':
        out.warn(`FAILED ${e.snapshot.slice(0, 8)}:${e.path}\n${e.problems.map((p) => `  ${p}`).join('\n')}`);
        return;
      case 'warning':
        out.warn(`${e.error ? 'error' : 'warning'}: ${e.message}`);
        return;
      case 'summary': {
        out.clearStatus();
        if (e.filesSeen === 0) out.info('nothing to drill: the selected snapshots hold no files');
        const verdict = e.failed || e.errors ? `${e.failed} FAILED${e.errors ? `, ${e.errors} other error${e.errors === 1 ? '' : 's'}` : ''}` : 'all good';
        out.info(
          `drill: ${e.snapshots} snapshot${e.snapshots === 1 ? '' : 's'}, ${e.filesSampled} files (${formatBytes(e.bytes)}) checked: ${e.passed} passed, ${verdict} in ${formatDuration(e.elapsedMs)}`,
        );
        if (e.kept) out.info(`restored files kept in ${e.target}`);
        if (e.failed || e.errors) out.info(`to repeat this drill on the same files: --seed ${e.seed}`);
        return;
      }
    }
  };

  #json(e: DrillEvent): void {
    const out = this.#out;
    switch (e.type) {
      case 'start':
        out.line({ message_type: 'drill_start', seed: e.seed, target: e.target, snapshots: e.snapshots.map((s) => ({ id: s.id, short_id: s.id.slice(0, 8), time: s.time, hostname: s.hostname, paths: s.paths })) });
        return;
      case 'sampled':
        out.line({ message_type: 'sampled', files_seen: e.filesSeen, files_sampled: e.filesSampled, bytes: e.bytes });
        return;
      case 'progress':
        if (!out.quiet) out.line({ message_type: 'status', phase: e.phase, seconds_elapsed: Math.floor(e.elapsedMs / 1000), files_done: e.done, ...(e.total ? { total_files: e.total } : {}) });
        return;
      case 'failure':
        out.line({ message_type: 'failure', snapshot: e.snapshot, path: e.path, problems: e.problems });
        return;
      case 'warning':
        out.line({ message_type: e.error ? 'error' : 'warning', message: e.message });
        return;
      case 'summary':
        out.line({
          message_type: 'summary',
          snapshots: e.snapshots,
          files_seen: e.filesSeen,
          files_sampled: e.filesSampled,
          bytes: e.bytes,
          passed: e.passed,
          failed: e.failed,
          error_count: e.errors,
          seconds_elapsed: e.elapsedMs / 1000,
          seed: e.seed,
          target: e.target,
          kept: e.kept,
        });
        return;
    }
  }
}
