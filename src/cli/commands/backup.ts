import { type Command, Option } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Archiver } from '../../archiver/archiver.ts';
import type { BackupEvent } from '../../archiver/events.ts';
import { createExcludeMatcher } from '../../archiver/excludes.ts';
import { readFilesFrom } from '../../archiver/files-from.ts';
import { parseSize } from '../../archiver/size.ts';
import { saveStdin } from '../../archiver/stdin-saver.ts';
import { InvalidInputError, UsageError } from '../../errors.ts';
import { Repository } from '../../repository/repository.ts';
import { listSnapshots, resolveSnapshot } from '../../repository/snapshots.ts';
import { type Context, withRepository } from '../context.ts';
import { formatBytes, formatDuration } from '../render/output.ts';
import { VERSION } from '../version.ts';
import { collect, parseTime, splitTags } from './common.ts';

interface BackupFlags {
  tag: string[];
  host?: string;
  time?: string;
  exclude: string[];
  iexclude: string[];
  excludeFile: string[];
  iexcludeFile: string[];
  excludeCaches?: boolean;
  excludeIfPresent: string[];
  excludeLargerThan?: string;
  oneFileSystem?: boolean;
  filesFrom: string[];
  filesFromVerbatim: string[];
  filesFromRaw: string[];
  stdin?: boolean;
  stdinFilename: string;
  dryRun?: boolean;
  parent?: string;
  force?: boolean;
  gitIgnore?: boolean;
  xattrs: boolean;
}

export function registerBackup(program: Command, ctx: () => Context, setCode: (c: number) => void): void {
  program
    .command('backup')
    .description('create a new snapshot of files and directories')
    .argument('[paths...]', 'files and directories to back up')
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect, [])
    .option('-H, --host <hostname>', 'set the hostname of the snapshot')
    .option('--time <time>', 'snapshot time instead of now ("2006-01-02 15:04:05" or ISO 8601)')
    .option('-e, --exclude <pattern>', 'exclude a pattern (repeatable)', collect, [])
    .option('--iexclude <pattern>', 'like --exclude, case-insensitive', collect, [])
    .option('--exclude-file <file>', 'read exclude patterns from a file (repeatable)', collect, [])
    .option('--iexclude-file <file>', 'like --exclude-file, case-insensitive', collect, [])
    .option('--exclude-caches', 'exclude the contents of directories with a valid CACHEDIR.TAG')
    .option('--exclude-if-present <name[:header]>', 'exclude directories containing this file (repeatable)', collect, [])
    .option('--exclude-larger-than <size>', 'exclude files larger than size (e.g. 100M)')
    .option('-x, --one-file-system', 'do not cross filesystem boundaries')
    .option('--files-from <file>', 'read paths to back up from a file, one per line (repeatable)', collect, [])
    .option('--files-from-verbatim <file>', 'like --files-from, lines taken as they are', collect, [])
    .option('--files-from-raw <file>', 'like --files-from, NUL-separated', collect, [])
    .option('--stdin', 'back up standard input as a file')
    .option('--stdin-filename <name>', 'file name for --stdin', 'stdin')
    .option('-n, --dry-run', 'do everything except write to the repository')
    .option('--parent <snapshot>', 'use this parent snapshot (default: latest with the same host and paths)')
    .option('-f, --force', 're-read every file, ignoring the files cache')
    .option('--git-ignore', 'honour .gitignore files')
    .option('--no-xattrs', 'do not save extended attributes')
    .addOption(new Option('--workers <n>', 'file worker threads').hideHelp())
    .action(async (args: string[], f: BackupFlags & { workers?: string }) => {
      const c = ctx();
      const time = f.time === undefined ? undefined : parseTime(f.time);
      const paths = [...args];
      const warn = (message: string): void => c.out.warn(`warning: ${message}`);
      for (const file of f.filesFrom) paths.push(...(await readFilesFrom(file, 'lines', { warn })));
      for (const file of f.filesFromVerbatim) paths.push(...(await readFilesFrom(file, 'verbatim', { warn })));
      for (const file of f.filesFromRaw) paths.push(...(await readFilesFrom(file, 'raw', { warn })));
      if (f.stdin && paths.length > 0) throw new UsageError('--stdin cannot be combined with paths');
      if (!f.stdin && paths.length === 0) throw new UsageError('nothing to back up: give at least one path (or --stdin, --files-from)');
      if (f.stdin && (f.stdinFilename === '' || f.stdinFilename.includes('/'))) throw new UsageError('--stdin-filename must be a plain file name');
      const abs = [...new Set(paths.map((p) => resolve(p)))].sort();
      for (const p of abs) {
        try {
          statSync(p);
        } catch (e) {
          throw new InvalidInputError(`cannot back up ${p}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
        }
      }
      const excludes = await createExcludeMatcher({
        patterns: f.exclude,
        insensitivePatterns: f.iexclude,
        excludeFiles: f.excludeFile,
        insensitiveExcludeFiles: f.iexcludeFile,
        excludeCaches: !!f.excludeCaches,
        excludeIfPresent: f.excludeIfPresent,
        ...(f.excludeLargerThan ? { excludeLargerThan: parseSize(f.excludeLargerThan) } : {}),
        gitIgnore: !!f.gitIgnore,
        warn,
      });
      const workers = f.workers === undefined ? undefined : Number(f.workers);
      const user = Repository.defaultUser;
      const hostname = f.host ?? user.hostname;
      const tags = splitTags(f.tag);
      await withRepository(c, { lock: f.dryRun ? 'none' : 'shared' }, async (repo) => {
        const snapPaths = f.stdin ? [`/${f.stdinFilename}`] : abs;
        const all = await listSnapshots(repo, { signal: c.signal });
        const parent = f.parent
          ? resolveSnapshot(all, f.parent)
          : [...all].reverse().find((s) => s.hostname === hostname && [...s.paths].sort().join('\0') === snapPaths.join('\0'));
        if (!f.dryRun) {
          const adopted = await repo.adoptOrphanPacks(c.signal);
          if (adopted.packs > 0 && !c.out.json) c.out.info(`reusing ${adopted.packs} packs (${adopted.blobs} blobs) stored by an interrupted backup`);
        }
        const render = makeRenderer(c);
        const common = {
          hostname,
          username: user.username,
          uid: user.uid,
          gid: user.gid,
          tags,
          ...(time ? { time } : {}),
          ...(parent ? { parent } : {}),
          dryRun: !!f.dryRun,
          signal: c.signal,
          onEvent: render,
          programVersion: `pybackup ${VERSION}`,
        };
        let result;
        if (f.stdin) {
          result = await saveStdin(repo, { ...common, filename: f.stdinFilename, input: process.stdin });
        } else {
          const excludeList = [...f.exclude, ...f.iexclude.map((p) => `(i) ${p}`)];
          result = await new Archiver(repo, {
            ...common,
            paths: abs,
            force: !!f.force,
            excludes,
            excludeList,
            oneFileSystem: !!f.oneFileSystem,
            xattrs: f.xattrs,
            estimate: !c.out.quiet && (c.out.tty || c.out.json),
            ...(workers ? { workers } : {}),
          }).run();
        }
        if (result.errors > 0) setCode(3);
      });
    });
}

function makeRenderer(c: Context): (e: BackupEvent) => void {
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
