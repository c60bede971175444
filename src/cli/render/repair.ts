import type {
  IndexPlan,
  IndexRepairSummary,
  PackPlan,
  PacksRepairSummary,
  RepairEvent,
  RepairPhase,
  RepairProblem,
  SnapshotPlan,
  SnapshotsRepairSummary,
} from '../../repair/events.ts';
import { formatDuration, type Output } from './output.ts';
import { PackProgressLine } from './pack-progress.ts';

const PHASES: Readonly<Record<RepairPhase, string>> = {
  index: 'load index files',
  packs: 'list packs',
  headers: 'read pack headers',
  verify: 'read and verify packs',
  salvage: 'salvage blobs into new packs',
  snapshots: 'load snapshots',
  trees: 'walk snapshot trees',
  write: 'write new files',
  remove: 'remove replaced files',
};
/** Text output lists this many removed paths per snapshot; --json lists all the event carries. */
const PATH_LINES = 20;
const LOST_HINT = 'run "pybackup repair snapshots" to remove the files that need them from the snapshots';
const short = (id: string): string => id.slice(0, 8);
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Renders repair events and summaries as text (problems to stderr) or NDJSON. */
export class RepairRenderer {
  readonly #out: Output;
  readonly #progress: PackProgressLine;

  constructor(out: Output) {
    this.#out = out;
    this.#progress = new PackProgressLine(out, { percent: false });
  }

  readonly onEvent = (e: RepairEvent): void => {
    const out = this.#out;
    switch (e.type) {
      case 'phase':
        if (!out.json) out.info(e.detail ? `${PHASES[e.phase]} (${e.detail})` : PHASES[e.phase]);
        return;
      case 'progress':
        this.#progress.show(e);
        return;
      case 'problem':
        this.#problem(e.problem);
        return;
      case 'index-plan':
        this.#indexPlan(e.plan, e.dryRun);
        return;
      case 'packs-plan':
        this.#packsPlan(e.packs, e.dryRun);
        return;
      case 'snapshot-plan':
        this.#snapshotPlan(e.plan, e.dryRun);
        return;
      case 'pack-repaired':
        if (out.json) out.line({ message_type: 'pack_repaired', pack: e.pack, salvaged: e.salvaged, lost: e.lost });
        else out.info(`pack ${e.pack}: salvaged ${plural(e.salvaged, 'blob')}, lost ${e.lost}`);
        return;
      case 'written':
      case 'removed':
        if (out.json) out.line({ message_type: e.type, file_type: e.fileType, name: e.name, ...(e.type === 'written' && e.detail ? { detail: e.detail } : {}) });
        else out.info(`${e.type === 'written' ? 'saved' : 'removed'} ${e.fileType} ${e.name}${e.type === 'written' && e.detail ? ` (${e.detail})` : ''}`);
        return;
    }
  };

  #problem(p: RepairProblem): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: p.severity,
        code: p.code,
        message: p.message,
        ...(p.pack !== undefined ? { pack: p.pack } : {}),
        ...(p.indexFile !== undefined ? { index_file: p.indexFile } : {}),
        ...(p.snapshot !== undefined ? { snapshot: p.snapshot } : {}),
        ...(p.hint !== undefined ? { hint: p.hint } : {}),
      });
      return;
    }
    if (p.severity === 'info') out.info(p.message);
    else out.warn(`${p.severity}: ${p.message}${p.hint ? `\n  hint: ${p.hint}` : ''}`);
  }

  #indexPlan(p: IndexPlan, dryRun: boolean): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'plan', mode: 'index', dry_run: dryRun, changed: p.changed, index_files: p.indexFiles, unreadable_index_files: p.unreadableIndexFiles,
        packs: p.packs, reused: p.reused, from_headers: p.fromHeaders, missing_packs: p.missing, unreadable_packs: p.unreadable, blobs: p.blobs,
      });
      return;
    }
    if (!p.changed) {
      out.info(`plan: the index already describes all ${plural(p.packs, 'pack')} (${plural(p.blobs, 'blob')}): nothing to do`);
      return;
    }
    const lines = [`plan: replace ${plural(p.indexFiles, 'index file')}${p.unreadableIndexFiles ? ` (${p.unreadableIndexFiles} unreadable)` : ''} with a new index of ${plural(p.packs - p.unreadable.length, 'pack')}${p.unreadable.length ? ` (+${p.unreadable.length} with unreadable headers)` : ''}, ${plural(p.blobs, 'blob')}`];
    lines.push(`  ${p.reused} packs keep their index entries, ${p.fromHeaders} were read from their headers`);
    if (p.missing.length) lines.push(`  drop the entries of ${plural(p.missing.length, 'missing pack')}`);
    out.info(lines.join('\n'));
  }

  #packsPlan(packs: readonly PackPlan[], dryRun: boolean): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'plan', mode: 'packs', dry_run: dryRun,
        packs: packs.map((p) => ({ pack: p.pack, size: p.size ?? null, reasons: p.reasons, blobs: p.blobs, salvage: p.salvage, lost: p.lost, elsewhere: p.elsewhere, lost_blobs: p.lostBlobs })),
      });
      return;
    }
    if (packs.length === 0) {
      out.info('plan: no damaged packs found: nothing to do');
      return;
    }
    const lines = [`plan: repair ${plural(packs.length, 'pack')}`];
    for (const p of packs) {
      const where = p.elsewhere ? `, ${p.elsewhere} damaged but stored in another pack` : '';
      lines.push(`  pack ${p.pack}: salvage ${p.salvage} of ${plural(p.blobs, 'blob')}, lose ${p.lost}${where} (${p.reasons.join('; ')})`);
    }
    out.info(lines.join('\n'));
  }

  #snapshotPlan(p: SnapshotPlan, dryRun: boolean): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'snapshot', dry_run: dryRun, snapshot: p.snapshot, action: p.action, removed: p.removed, removed_more: p.removedMore,
        ...(p.newTree ? { new_tree: p.newTree } : {}), ...(p.repairedAs ? { repaired_as: p.repairedAs } : {}), ...(p.reason ? { reason: p.reason } : {}),
      });
      return;
    }
    if (p.action === 'unchanged' || p.action === 'unrepairable') return;
    if (p.action === 'already-repaired') {
      out.info(`snapshot ${short(p.snapshot)} was already repaired as ${short(p.repairedAs ?? '')}`);
      return;
    }
    const total = p.removed.length + p.removedMore;
    const lines = [`snapshot ${short(p.snapshot)}: ${dryRun ? 'would remove' : 'remove'} ${plural(total, 'path')}:`];
    for (const path of p.removed.slice(0, PATH_LINES)) lines.push(`  ${path}`);
    if (total > PATH_LINES) lines.push(`  … and ${total - PATH_LINES} more`);
    out.info(lines.join('\n'));
  }

  indexSummary(s: IndexRepairSummary): void {
    const out = this.#out;
    if (out.json) {
      out.line({ message_type: 'summary', mode: 'index', dry_run: s.dryRun, changed: s.plan.changed, index_files_written: s.indexFilesWritten, index_files_removed: s.indexFilesRemoved, packs: s.plan.packs, blobs: s.plan.blobs, unreadable_packs: s.plan.unreadable, seconds_elapsed: s.elapsedMs / 1000 });
      return;
    }
    if (s.dryRun) out.info('dry run: nothing was changed');
    else if (s.plan.changed) out.info(`index rebuilt: ${plural(s.indexFilesWritten, 'index file')} written, ${s.indexFilesRemoved} removed, in ${formatDuration(s.elapsedMs)}`);
  }

  packsSummary(s: PacksRepairSummary): void {
    const out = this.#out;
    if (out.json) {
      out.line({ message_type: 'summary', mode: 'packs', dry_run: s.dryRun, packs_verified: s.packsVerified, packs_repaired: s.dryRun ? 0 : s.packs.length, salvaged: s.salvaged, lost: s.lost, packs_written: s.packsWritten, index_files_written: s.indexFilesWritten, index_files_removed: s.indexFilesRemoved, packs_removed: s.packsRemoved, seconds_elapsed: s.elapsedMs / 1000, ...(s.lost > 0 ? { hint: LOST_HINT } : {}) });
      return;
    }
    if (s.dryRun) out.info('dry run: nothing was changed');
    else if (s.packs.length > 0) out.info(`repaired ${plural(s.packs.length, 'pack')}: salvaged ${plural(s.salvaged, 'blob')} into ${plural(s.packsWritten, 'new pack')}, lost ${s.lost}, in ${formatDuration(s.elapsedMs)}`);
    if (s.lost > 0) out.warn(`${plural(s.lost, 'blob')} ${s.dryRun ? 'would be' : s.lost === 1 ? 'is' : 'are'} lost: ${LOST_HINT}`);
  }

  snapshotsSummary(s: SnapshotsRepairSummary, forget: boolean): void {
    const out = this.#out;
    if (out.json) {
      out.line({ message_type: 'summary', mode: 'snapshots', dry_run: s.dryRun, snapshots: s.snapshots, repaired: s.repaired, unchanged: s.unchanged, already_repaired: s.alreadyRepaired, unrepairable: s.unrepairable, forgotten: s.forgotten, trees_written: s.treesWritten, seconds_elapsed: s.elapsedMs / 1000 });
      return;
    }
    const parts = [`${s.repaired} ${s.dryRun ? 'to repair' : 'repaired'}`, `${s.unchanged} unchanged`];
    if (s.alreadyRepaired) parts.push(`${s.alreadyRepaired} already repaired`);
    if (s.unrepairable) parts.push(`${s.unrepairable} cannot be repaired`);
    if (s.forgotten) parts.push(`${s.forgotten} originals removed`);
    out.info(`${plural(s.snapshots, 'snapshot')}: ${parts.join(', ')}`);
    if (s.dryRun) out.info('dry run: nothing was changed');
    else if (!forget && s.repaired + s.alreadyRepaired > 0) out.info('the damaged originals are kept: "pybackup repair snapshots --forget" removes them once the repaired snapshots are checked');
  }
}
