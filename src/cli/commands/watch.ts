import type { Command } from 'commander';
import { isAbsolute, resolve } from 'node:path';
import { createExcludeMatcher } from '../../archiver/excludes.ts';
import { readFilesFrom } from '../../archiver/files-from.ts';
import { parseSize } from '../../archiver/size.ts';
import { findConfigFile, loadConfig, profileByName } from '../../app/profile/load.ts';
import type { Profile } from '../../app/profile/profile.ts';
import { PyBackupError, UsageError } from '../../errors.ts';
import { cacheRoot } from '../../repository/catalog.ts';
import { stateDir } from '../../scheduler/paths.ts';
import { parsePeriod } from '../../scheduler/period.ts';
import { ignoreFilter } from '../../scheduler/watch/ignore.ts';
import { watchAndBackup } from '../../scheduler/watch/watcher.ts';
import type { Context } from '../context.ts';
import { Output } from '../render/output.ts';
import { watchRenderer } from '../render/watch.ts';
import { type BackupOutcome, performBackup } from './backup-run.ts';
import { backupFlagsOf, profileContext, profileSession } from './profile-steps.ts';
import { CONFIG_OPTION } from './run.ts';

interface Flags {
  config?: string;
  quietPeriod?: string;
  rescanEvery?: string;
  maxDelay?: string;
}

export const DEFAULT_QUIET_MS = 30_000;
export const DEFAULT_RESCAN_MS = 10 * 60_000;

/** The source paths of a profile: `paths` and the files-from lists, as `run` would back them up. */
async function sourcesOf(p: Profile, warn: (m: string) => void): Promise<string[]> {
  const paths = [...p.backup.paths];
  for (const f of p.backup.filesFrom) paths.push(...(await readFilesFrom(f, 'lines', { warn })));
  for (const f of p.backup.filesFromVerbatim) paths.push(...(await readFilesFrom(f, 'verbatim', { warn })));
  for (const f of p.backup.filesFromRaw) paths.push(...(await readFilesFrom(f, 'raw', { warn })));
  return [...new Set(paths.map((x) => resolve(x)))].sort();
}

export function registerWatch(program: Command, ctx: () => Context, stoppedCleanly: () => void): void {
  program
    .command('watch')
    .description('continuous protection: back up a profile\'s changed directories shortly after they change (plus periodic full rescans)')
    .argument('<profile>', 'the profile to watch')
    .option(...CONFIG_OPTION)
    .option('--quiet-period <time>', `back up once changes have settled for this long (default: the profile's watch.quiet-period, else ${DEFAULT_QUIET_MS / 1000}s)`)
    .option('--rescan-every <time>', `full incremental backup this often, to catch missed notifications (default: watch.rescan-every, else ${DEFAULT_RESCAN_MS / 60_000}m)`)
    .option('--max-delay <time>', 'back up after this long even while changes keep coming (default: 10 quiet periods, at least 5m)')
    .action(async (name: string, f: Flags) => {
      const c = ctx();
      const file = findConfigFile(f.config);
      const p = profileByName(loadConfig(file), name);
      const quietMs = f.quietPeriod !== undefined ? parsePeriod(f.quietPeriod, { what: '--quiet-period', min: 100, max: 86_400_000 }) : (p.watch?.quietMs ?? DEFAULT_QUIET_MS);
      const rescanMs = f.rescanEvery !== undefined ? parsePeriod(f.rescanEvery, { what: '--rescan-every', min: 1000, max: 7 * 86_400_000 }) : (p.watch?.rescanMs ?? DEFAULT_RESCAN_MS);
      const maxDelayMs = f.maxDelay !== undefined ? parsePeriod(f.maxDelay, { what: '--max-delay', min: 100 }) : undefined;
      if (rescanMs < quietMs) throw new UsageError(`the rescan interval (${f.rescanEvery ?? 'rescan-every'}) must not be shorter than the quiet period`);
      const warn = (m: string): void => c.out.warn(`warning: ${m}`);
      const roots = await sourcesOf(p, warn);
      if (roots.length === 0) throw new UsageError(`profile ${p.name} has nothing to back up`);
      if (p.snapshot) warn(`profile ${p.name}: watch backs up the live files; the filesystem snapshot step is for \`pybackup run\``);
      if (p.hooks.before.length + p.hooks.after.length + p.hooks.onFailure.length > 0) warn(`profile ${p.name}: hooks run with \`pybackup run\`, not with watch`);
      // the backups print only their warnings (and, with --json, their summary lines): the watch reports the rest
      const pc = { ...profileContext(c, p), out: new Output({ json: c.out.json, quiet: true }) };
      const session = profileSession(c, pc, p);
      const b = p.backup;
      const excludes = await createExcludeMatcher({
        patterns: b.exclude,
        insensitivePatterns: b.iexclude,
        excludeFiles: b.excludeFile,
        insensitiveExcludeFiles: b.iexcludeFile,
        ...(b.excludeLargerThan ? { excludeLargerThan: parseSize(b.excludeLargerThan) } : {}),
        warn,
      });
      const repo = (pc.globals.repo ?? '').replace(/^local:/, '');
      const ownDirs = [cacheRoot(), stateDir(), ...(isAbsolute(repo) ? [repo] : [])];
      let current: string | undefined;
      const backup = async (dirs: ReadonlySet<string> | undefined): Promise<BackupOutcome> => {
        const flags = { ...backupFlagsOf(p, false), ...(current ? { parent: current } : {}) };
        return await performBackup(pc, roots, flags, { session: session.run, partial: { changedDirs: dirs, skipIfUnchanged: true } });
      };
      let stop: { interrupted: boolean };
      try {
        stop = await watchAndBackup({
          roots,
          quietMs,
          rescanMs,
          ...(maxDelayMs !== undefined ? { maxDelayMs } : {}),
          ignore: ignoreFilter({ excludes, ownDirs }),
          signal: c.signal,
          onEvent: watchRenderer(c.out, p.name),
          backup: async ({ dirs }) => {
            let r: BackupOutcome;
            try {
              r = await backup(dirs);
            } catch (e) {
              // the parent was forgotten meanwhile (retention): start over from the latest snapshot, walking everything
              if (!(e instanceof PyBackupError && e.code === 'SNAPSHOT_NOT_FOUND' && current)) throw e;
              current = undefined;
              r = await backup(undefined);
            }
            current = r.snapshotId ?? r.parentId ?? current;
            return { snapshotId: current, created: r.snapshotId !== undefined, dataAdded: r.summary?.dataAdded ?? 0, errors: r.errors };
          },
        });
      } finally {
        await session.close();
      }
      // Ctrl-C is how a watch ends: that is a clean stop unless it cut a backup short
      if (!stop.interrupted) stoppedCleanly();
    });
}
