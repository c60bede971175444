import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { createPathFilter } from '../../restorer/path-filter.ts';
import { type OverwriteMode, Restorer } from '../../restorer/restorer.ts';
import type { RestoreEvent } from '../../restorer/events.ts';
import { type Context, withRepository } from '../context.ts';
import { formatBytes, formatDuration } from '../render/output.ts';
import { collect, reportUnreadableSnapshot } from './common.ts';
import { resolveRef } from './snapshot-ref.ts';

interface Flags {
  target?: string;
  include: string[];
  exclude: string[];
  iinclude: string[];
  iexclude: string[];
  overwrite: string;
  delete?: boolean;
  verify?: boolean;
  sparse?: boolean;
  dryRun?: boolean;
  host: string[];
  tag: string[];
  path: string[];
}

const MODES = ['always', 'if-changed', 'if-newer', 'never'];

export function registerRestore(program: Command, ctx: () => Context, setCode: (c: number) => void): void {
  program
    .command('restore')
    .description('restore a snapshot (or a path in it) into a directory')
    .argument('<snapshot>', 'snapshot ID, unique prefix or "latest", optionally ":PATH" inside it')
    .option('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <pattern>', 'restore only matching paths (repeatable)', collect, [])
    .option('-e, --exclude <pattern>', 'do not restore matching paths (repeatable)', collect, [])
    .option('--iinclude <pattern>', 'like --include, case-insensitive', collect, [])
    .option('--iexclude <pattern>', 'like --exclude, case-insensitive', collect, [])
    .option('--overwrite <mode>', 'existing files: always|if-changed|if-newer|never', 'always')
    .option('--delete', 'delete files in the target that are not in the snapshot')
    .option('--verify', 're-read restored files and check them against the snapshot')
    .option('--sparse', 'keep holes: do not write runs of zeros')
    .option('-n, --dry-run', 'show what would be restored')
    .option('-H, --host <host>', 'for "latest": only this host', collect, [])
    .option('--tag <tags>', 'for "latest": only with these tags', collect, [])
    .option('--path <path>', 'for "latest": only with this path', collect, [])
    .action(async (ref: string, f: Flags) => {
      const c = ctx();
      if (!f.target) throw new UsageError('please give a target directory with --target');
      if (!MODES.includes(f.overwrite)) throw new UsageError(`--overwrite must be one of ${MODES.join(', ')}`);
      const filter = createPathFilter({ include: f.include, exclude: f.exclude, iinclude: f.iinclude, iexclude: f.iexclude });
      await withRepository(c, { lock: 'shared' }, async (repo) => {
        const { snapshot, subpath, node } = await resolveRef(repo, ref, { hosts: f.host, tags: f.tag, paths: f.path }, c.signal, reportUnreadableSnapshot(c));
        if (!c.out.json) c.out.info(`restoring snapshot ${snapshot.id.slice(0, 8)} of ${snapshot.paths.join(', ')} at ${snapshot.time}${subpath ? ` (${subpath})` : ''} to ${f.target}`);
        const restorer = new Restorer(repo, {
          target: f.target!,
          filter,
          overwrite: f.overwrite as OverwriteMode,
          delete: !!f.delete,
          verify: !!f.verify,
          sparse: !!f.sparse,
          dryRun: !!f.dryRun,
          signal: c.signal,
          onEvent: renderer(c),
        });
        const root = node === undefined ? { treeId: snapshot.tree, snapshotPath: '' } : node.type === 'dir' && node.subtree ? { treeId: node.subtree, snapshotPath: subpath } : { node, snapshotPath: subpath };
        const summary = await restorer.run(root);
        if (summary.errors > 0) setCode(1);
      });
    });
}

function renderer(c: Context): (e: RestoreEvent) => void {
  const out = c.out;
  return (e) => {
    if (e.type === 'progress') {
      if (out.json) {
        if (!out.quiet) out.line({ message_type: 'status', seconds_elapsed: Math.floor(e.elapsedMs / 1000), percent_done: e.bytesTotal ? e.bytesDone / e.bytesTotal : 1, total_files: e.filesTotal, files_restored: e.filesDone, total_bytes: e.bytesTotal, bytes_restored: e.bytesDone });
        return;
      }
      const pct = e.bytesTotal ? (e.bytesDone / e.bytesTotal) * 100 : 100;
      const rate = e.elapsedMs > 0 ? (e.bytesDone / e.elapsedMs) * 1000 : 0;
      const eta = rate > 0 ? formatDuration(((e.bytesTotal - e.bytesDone) / rate) * 1000) : '?';
      out.status(`[${formatDuration(e.elapsedMs)}] ${pct.toFixed(1)}%  ${e.filesDone} / ${e.filesTotal} files  ${formatBytes(e.bytesDone)} / ${formatBytes(e.bytesTotal)}  ETA ${eta}`);
    } else if (e.type === 'warning') {
      if (out.json) out.line({ message_type: 'error', error: { message: e.message }, during: 'restore', item: e.path });
      else out.warn(`error: ${e.path}: ${e.message}`);
    } else if (out.json) {
      out.line({
        message_type: 'summary',
        dry_run: e.dryRun,
        seconds_elapsed: Math.floor(e.elapsedMs / 1000),
        files_restored: e.filesRestored,
        files_skipped: e.filesSkipped,
        files_deleted: e.deleted,
        total_bytes: e.bytesTotal,
        bytes_written: e.bytesWritten,
        error_count: e.errors,
        ...(e.verified !== undefined ? { files_verified: e.verified, verify_failures: e.verifyFailures } : {}),
      });
    } else {
      const verb = e.dryRun ? 'Would restore' : 'Restored';
      out.info(`${verb} ${e.filesRestored} files (${formatBytes(e.bytesTotal)}) and ${e.dirs} directories in ${formatDuration(e.elapsedMs)}${e.filesSkipped ? `, skipped ${e.filesSkipped} existing files` : ''}${e.deleted ? `, deleted ${e.deleted}` : ''}`);
      if (e.verified !== undefined) out.info(`verified ${e.verified} files: ${e.verifyFailures ? `${e.verifyFailures} FAILED` : 'all match'}`);
      if (e.errors) out.warn(`there were ${e.errors} errors`);
    }
  };
}
