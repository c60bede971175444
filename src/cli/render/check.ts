import type { CheckEvent, CheckPhase, CheckSummary, Finding, FindingCode } from '../../checker/events.ts';
import { formatBytes, formatDuration, type Output } from './output.ts';
import { PackProgressLine } from './pack-progress.ts';

const PHASES: Readonly<Record<CheckPhase, string>> = {
  keys: 'check config and keys',
  index: 'load indexes',
  packs: 'check all packs',
  snapshots: 'load snapshots',
  'read-data': 'read data',
  trees: 'check snapshots, trees and blobs',
  paths: 'find the files affected by damage',
};
/** Text output lists this many info findings of one kind; --json lists all. */
const INFO_LINES = 10;

/** Renders check events and the summary as text (errors to stderr) or NDJSON (one line per finding, then a summary). */
export class CheckRenderer {
  readonly #out: Output;
  readonly #infos = new Map<FindingCode, number>();
  readonly #progress: PackProgressLine;

  constructor(out: Output) {
    this.#out = out;
    this.#progress = new PackProgressLine(out, { percent: true });
  }

  readonly onEvent = (e: CheckEvent): void => {
    const out = this.#out;
    switch (e.type) {
      case 'phase':
        if (!out.json) out.info(e.detail ? `${PHASES[e.phase]} (${e.detail})` : PHASES[e.phase]);
        return;
      case 'progress':
        this.#progress.show(e);
        return;
      case 'finding':
        this.#finding(e.finding);
        return;
    }
  };

  #finding(f: Finding): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: f.severity,
        code: f.code,
        message: f.message,
        ...(f.pack !== undefined ? { pack: f.pack } : {}),
        ...(f.blob !== undefined ? { blob: f.blob } : {}),
        ...(f.blobType !== undefined ? { blob_type: f.blobType } : {}),
        ...(f.indexFile !== undefined ? { index_file: f.indexFile } : {}),
        ...(f.snapshot !== undefined ? { snapshot: f.snapshot } : {}),
        ...(f.blobCount !== undefined ? { blob_count: f.blobCount } : {}),
        ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
        ...(f.affected ? { affected: f.affected.map((a) => ({ snapshot: a.snapshot, path: a.path })) } : {}),
        ...(f.affectedMore ? { affected_more: f.affectedMore } : {}),
        ...(f.hint !== undefined ? { hint: f.hint } : {}),
      });
      return;
    }
    if (f.severity === 'info') {
      const n = (this.#infos.get(f.code) ?? 0) + 1;
      this.#infos.set(f.code, n);
      if (n <= INFO_LINES) out.info(`${f.message}${f.hint ? ` (${f.hint})` : ''}`);
      return;
    }
    const lines = [`${f.severity}: ${f.message}`];
    if (f.affected?.length) {
      lines.push(`  affects ${f.affected.length + (f.affectedMore ?? 0)} place(s) in snapshots:`);
      for (const a of f.affected) lines.push(`    ${a.snapshot.slice(0, 8)}:${a.path}`);
      if (f.affectedMore) lines.push(`    … and ${f.affectedMore} more`);
    }
    if (f.hint) lines.push(`  hint: ${f.hint}`);
    out.warn(lines.join('\n'));
  }

  summary(s: CheckSummary): void {
    const out = this.#out;
    if (out.json) {
      out.line({
        message_type: 'summary',
        num_errors: s.errors,
        num_warnings: s.warnings,
        num_infos: s.infos,
        broken_packs: s.brokenPacks,
        suggest_repair_index: s.suggestRepairIndex,
        suggest_prune: s.suggestPrune,
        index_files: s.indexFiles,
        packs: s.packs,
        blobs: s.blobs,
        snapshots: s.snapshots,
        trees: s.trees,
        packs_read: s.packsRead,
        bytes_read: s.bytesRead,
        seconds_elapsed: s.elapsedMs / 1000,
      });
      return;
    }
    for (const [code, n] of this.#infos) if (n > INFO_LINES) out.info(`… and ${n - INFO_LINES} more ${code} findings (--json lists all)`);
    const read = s.packsRead > 0 ? `; read ${s.packsRead} packs, ${formatBytes(s.bytesRead)}` : '';
    out.info(`checked ${s.snapshots} snapshots, ${s.trees} trees, ${s.blobs} blobs in ${s.packs} packs (${s.indexFiles} index files)${read} in ${formatDuration(s.elapsedMs)}`);
    if (s.suggestRepairIndex) out.warn('the index is incomplete: rebuild it from the packs before pruning');
    else if (s.suggestPrune) out.info('the repository holds unused data: prune would remove it');
    if (s.errors === 0) out.info('no errors were found');
    else {
      if (s.brokenPacks.length > 0) out.warn(`damaged or missing packs: ${s.brokenPacks.join(', ')}`);
      out.warn(`${s.errors} error${s.errors === 1 ? '' : 's'} found`);
    }
  }
}
