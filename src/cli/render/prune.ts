import type { LockInfo } from '../../repository/lock.ts';
import type { MarkPlan, PruneEvent, PrunePhase, PrunePlan, PruneSummary } from '../../prune/prune-events.ts';
import { formatBytes, formatDuration, type Output } from './output.ts';

const PHASES: Readonly<Record<PrunePhase, string>> = {
  index: 'load index files',
  locks: 'check which processes are running',
  snapshots: 'load snapshots',
  trees: 'find the data snapshots use',
  sweep: 'delete marked packs',
  repack: 'repack partly used packs',
  mark: 'mark unused packs',
};
const short = (id: string): string => id.slice(0, 8);
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
/** Infinity (an unlimited --max-unused) has no JSON form. */
const num = (n: number): number | null => (Number.isFinite(n) ? n : null);
const holder = (l: LockInfo): string => (l.pid === 0 ? l.hostname : `PID ${l.pid} on ${l.hostname} by ${l.username}${l.started ? `, since ${l.started}` : ''}`);
const lockJson = (l: LockInfo): Record<string, unknown> => ({ hostname: l.hostname, username: l.username, pid: l.pid, started: l.started ?? null, time: l.time, exclusive: l.exclusive });

/** Renders prune events and the summary as text or NDJSON (one line per event, then a summary). */
export class PruneRenderer {
  readonly #out: Output;
  #lastStatus = 0;

  constructor(out: Output) {
    this.#out = out;
  }

  readonly onEvent = (e: PruneEvent): void => {
    const out = this.#out;
    switch (e.type) {
      case 'phase':
        if (!out.json) out.info(e.detail ? `${PHASES[e.phase]} (${e.detail})` : PHASES[e.phase]);
        return;
      case 'progress': {
        const now = Date.now();
        if (now - this.#lastStatus < (out.json ? 1000 : 100) && e.done !== e.total) return;
        this.#lastStatus = now;
        if (out.json) {
          if (!out.quiet) out.line({ message_type: 'status', phase: e.phase, seconds_elapsed: Math.floor(e.elapsedMs / 1000), done: e.done, ...(e.total ? { total: e.total } : {}) });
        } else {
          out.status(`[${formatDuration(e.elapsedMs)}] ${e.phase === 'trees' ? `${e.done} trees` : `${e.done} / ${e.total} packs`}`);
        }
        return;
      }
      case 'problem':
        if (out.json) out.line({ message_type: e.problem.severity, code: e.problem.code, message: e.problem.message, index_file: e.problem.indexFile });
        else out.warn(`${e.problem.severity}: ${e.problem.message}`);
        return;
      case 'plan':
        this.#plan(e.plan, e.dryRun);
        return;
      case 'written':
      case 'removed':
        // text output stays short (a prune may touch thousands of packs); --json lists every file
        if (out.json) out.line({ message_type: e.type, file_type: e.fileType, name: e.name, ...(e.type === 'written' && e.detail ? { detail: e.detail } : {}) });
        return;
      case 'mark-written':
        if (out.json) out.line({ message_type: 'mark_written', name: e.name, packs: e.packs, restated_blobs: e.restated });
        else out.info(`marked ${plural(e.packs, 'pack')} (mark file ${short(e.name)})`);
        return;
      case 'mark-removed':
        if (out.json) out.line({ message_type: 'mark_removed', name: e.name });
        return;
      case 'swept':
        if (out.json) out.line({ message_type: 'swept', mark: e.mark, packs_deleted: e.deleted, packs_kept: e.kept, bytes_freed: e.bytes });
        else out.info(`mark ${short(e.mark)}: deleted ${plural(e.deleted, 'pack')} (${formatBytes(e.bytes)})${e.kept ? `, kept ${e.kept} that snapshots use again` : ''}`);
        return;
      case 'mark-blocked':
        if (out.json) out.line({ message_type: 'mark_waiting', mark: e.mark, blocked_by: e.blockers.map(lockJson) });
        else out.info(`mark ${short(e.mark)} waits for ${plural(e.blockers.length, 'process')} that started before it: ${e.blockers.map(holder).join('; ')}`);
        return;
    }
  };

  #markLine(m: MarkPlan): string {
    const head = `  earlier mark ${short(m.name)} (${plural(m.packs, 'pack')}, ${new Date(m.time).toISOString()}): `;
    if (m.blockers.length > 0) return `${head}waits for ${plural(m.blockers.length, 'running process')} that started before it`;
    return `${head}delete ${plural(m.deletePacks, 'pack')} (${formatBytes(m.deleteBytes)})${m.keepPacks ? `, keep ${m.keepPacks} that snapshots use again` : ''}`;
  }

  #plan(p: PrunePlan, dryRun: boolean): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'plan', dry_run: dryRun, snapshots: p.snapshots, used_blobs: p.usedBlobs, packs: p.packs, bytes: p.bytes,
        used_packs: p.usedPacks, partly_used_packs: p.partlyUsedPacks, unused_packs: p.unusedPacks, unindexed_packs: p.unindexedPacks,
        marked_earlier: p.markedEarlier, used_bytes: p.usedBytes, unused_bytes: p.unusedBytes, max_unused_bytes: num(p.maxUnusedBytes),
        marks: p.marks.map((m) => ({ name: m.name, time: new Date(m.time).toISOString(), packs: m.packs, sweepable: m.blockers.length === 0, blocked_by: m.blockers.map(lockJson), delete_packs: m.deletePacks, delete_bytes: m.deleteBytes, keep_packs: m.keepPacks })),
        repack_packs: p.repackPacks, repack_bytes: p.repackBytes, repack_used_bytes: p.repackUsedBytes, mark_packs: p.markPacks, mark_bytes: p.markBytes,
        bytes_freed_now: p.freedNow, bytes_freed_later: p.freedLater, unused_bytes_after: p.unusedAfter,
      });
      return;
    }
    const lines = [`plan${dryRun ? ' (dry run)' : ''}: ${plural(p.snapshots, 'snapshot')} use ${plural(p.usedBlobs, 'blob')}`];
    lines.push(`  packs: ${p.packs} (${formatBytes(p.bytes)}): ${p.usedPacks} used, ${p.partlyUsedPacks} partly used, ${p.unusedPacks} unused, ${p.unindexedPacks} unindexed, ${p.markedEarlier} marked earlier`);
    lines.push(`  used ${formatBytes(p.usedBytes)}, unused ${formatBytes(p.unusedBytes)} (allowed: ${Number.isFinite(p.maxUnusedBytes) ? formatBytes(p.maxUnusedBytes) : 'unlimited'})`);
    for (const m of p.marks) lines.push(this.#markLine(m));
    lines.push(`  to delete now: ${formatBytes(p.freedNow)}`);
    lines.push(`  to repack: ${plural(p.repackPacks, 'pack')} (${formatBytes(p.repackBytes)}, ${formatBytes(p.repackUsedBytes)} of it used)`);
    const parts = [`${p.unusedPacks} unused`, `${p.repackPacks} repacked`, `${p.unindexedPacks} unindexed`];
    lines.push(`  to mark: ${plural(p.markPacks, 'pack')} (${parts.join(', ')}), ${formatBytes(p.markBytes)}: frees ${formatBytes(p.freedLater)} when swept (at once unless backups are running)`);
    lines.push(`  unused space after: ${formatBytes(p.unusedAfter)}`);
    out.info(lines.join('\n'));
  }

  summary(s: PruneSummary): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'summary', dry_run: s.dryRun, packs_deleted: s.packsDeleted, bytes_freed: s.bytesFreed, packs_written: s.packsWritten,
        index_files_written: s.indexFilesWritten, index_files_removed: s.indexFilesRemoved, marks_written: s.marksWritten, marks_removed: s.marksRemoved,
        packs_pending: s.packsPending, bytes_pending: s.bytesPending, seconds_elapsed: s.elapsedMs / 1000,
      });
      return;
    }
    if (s.dryRun) {
      out.info('dry run: nothing was changed');
      return;
    }
    const written = s.packsWritten ? `, ${plural(s.packsWritten, 'pack')} written` : '';
    out.info(`deleted ${plural(s.packsDeleted, 'pack')}, freed ${formatBytes(s.bytesFreed)}${written}, in ${formatDuration(s.elapsedMs)}`);
    if (s.packsPending > 0) out.info(`${plural(s.packsPending, 'pack')} marked (${formatBytes(s.bytesPending)}): they are deleted by the next prune once running backups finish`);
  }
}
