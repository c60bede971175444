import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Archiver } from '../../archiver/archiver.ts';
import type { BackupEvent, BackupSummary } from '../../archiver/events.ts';
import { createExcludeMatcher } from '../../archiver/excludes.ts';
import { readFilesFrom } from '../../archiver/files-from.ts';
import { type PartialBackup, partialOptions } from '../../archiver/partial-walk.ts';
import { PathMap, type PathMapping } from '../../archiver/path-map.ts';
import { parseSize } from '../../archiver/size.ts';
import { saveStdin } from '../../archiver/stdin-saver.ts';
import { InvalidInputError, UsageError } from '../../errors.ts';
import { Repository } from '../../repository/repository.ts';
import { listSnapshots, resolveSnapshot } from '../../repository/snapshots.ts';
import type { Context } from '../context.ts';
import { makeRenderer } from '../render/backup.ts';
import { commandSession, type Session } from '../session.ts';
import { VERSION } from '../version.ts';
import { parseTime, splitTags } from './common.ts';

/** The options of `backup`, as commander hands them over (profiles build the same object). */
export interface BackupFlags {
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
  asPath?: string;
  compression?: string;
  workers?: string;
}

export interface BackupOutcome {
  readonly snapshotId?: string | undefined;
  /** files that could not be read (the command exits 3) */
  readonly errors: number;
  readonly summary?: BackupSummary | undefined;
  /** the parent snapshot used (with `skipIfUnchanged` and no new snapshot, it still describes the files) */
  readonly parentId?: string | undefined;
}

function parseCompression(s: string): number {
  const n = Number(s.trim());
  if (!/^\d+$/.test(s.trim()) || n > 19) throw new UsageError(`--compression must be an integer from 0 to 19, got ${JSON.stringify(s)}`);
  return n;
}

/** Recorded paths and where they are read: --as-path, or a profile's snapshot mount (`sourceMap`). */
function sourcesOf(paths: readonly string[], f: BackupFlags, sourceMap: PathMapping | undefined): { abs: string[]; map: PathMap } {
  const abs = [...new Set(paths.map((p) => resolve(p)))].sort();
  if (f.asPath === undefined) return { abs, map: new PathMap(sourceMap ? [sourceMap] : []) };
  if (f.stdin) throw new UsageError('--as-path cannot be combined with --stdin (use --stdin-filename)');
  if (abs.length !== 1) throw new UsageError(`--as-path maps exactly one source path to the recorded one, got ${abs.length}`);
  const map = new PathMap([{ recorded: f.asPath, real: abs[0] as string }]);
  return { abs: [(map.mappings[0] as PathMapping).recorded], map };
}

/**
 * `backup`: everything the command does, for the command itself and for profile runs. `session` is how the
 * repository is reached (default: open, lock, close); `sourceMap` reads recorded paths from elsewhere.
 */
export async function performBackup(c: Context, args: readonly string[], f: BackupFlags, o: { session?: Session; sourceMap?: PathMapping; partial?: PartialBackup } = {}): Promise<BackupOutcome> {
  // a backup must hold a lock: prune only deletes marked data once no lock older than the mark remains (§14e)
  if (c.globals.noLock && !f.dryRun) throw new UsageError('--no-lock is only applicable in combination with --dry-run for backup');
  const time = f.time === undefined ? undefined : parseTime(f.time);
  const compression = f.compression === undefined ? undefined : parseCompression(f.compression);
  const paths = [...args];
  const warn = (message: string): void => c.out.warn(`warning: ${message}`);
  for (const file of f.filesFrom) paths.push(...(await readFilesFrom(file, 'lines', { warn })));
  for (const file of f.filesFromVerbatim) paths.push(...(await readFilesFrom(file, 'verbatim', { warn })));
  for (const file of f.filesFromRaw) paths.push(...(await readFilesFrom(file, 'raw', { warn })));
  if (f.stdin && paths.length > 0) throw new UsageError('--stdin cannot be combined with paths');
  if (!f.stdin && paths.length === 0) throw new UsageError('nothing to back up: give at least one path (or --stdin, --files-from)');
  if (f.stdin && (f.stdinFilename === '' || f.stdinFilename.includes('/'))) throw new UsageError('--stdin-filename must be a plain file name');
  const { abs, map } = sourcesOf(paths, f, o.sourceMap);
  for (const p of abs) {
    const real = map.real(p);
    try {
      statSync(real);
    } catch (e) {
      throw new InvalidInputError(`cannot back up ${p}${real === p ? '' : ` (read from ${real})`}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
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
  const session = o.session ?? commandSession(c);
  return await session(f.dryRun ? 'none' : 'backup', async (repo) => {
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
    let summary: BackupSummary | undefined;
    const common = {
      hostname,
      username: user.username,
      uid: user.uid,
      gid: user.gid,
      tags,
      ...(time ? { time } : {}),
      ...(parent ? { parent } : {}),
      ...(compression !== undefined ? { compression } : {}),
      dryRun: !!f.dryRun,
      signal: c.signal,
      onEvent: (e: BackupEvent): void => {
        if (e.type === 'summary') summary = e;
        render(e);
      },
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
        ...(map.empty ? {} : { pathMap: map }),
        ...(workers ? { workers } : {}),
        ...partialOptions(o.partial, parent, abs),
      }).run();
    }
    return { snapshotId: result.id, errors: result.errors, summary, parentId: parent?.id };
  });
}
