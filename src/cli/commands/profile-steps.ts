import { parseSize } from '../../archiver/size.ts';
import { NoPasswordError } from '../../app/password.ts';
import type { Profile } from '../../app/profile/profile.ts';
import type { ProfileSteps } from '../../app/profile/runner.ts';
import { parseSubset } from '../../checker/subset.ts';
import { parseGroupBy } from '../../prune/group.ts';
import { Repository } from '../../repository/repository.ts';
import { type Context, type GlobalOptions, makeContext, password } from '../context.ts';
import { SharedSession } from '../session.ts';
import { performBackup, type BackupFlags } from './backup-run.ts';
import { performCheck } from './check.ts';
import { performForget } from './forget-run.ts';
import { performPrune } from './prune.ts';

/**
 * The context of a profile run: the profile's repository, password source and bandwidth limits, unless the command
 * line names its own (-r, --password-file, --password-command, --limit-upload/-download win, as for any command).
 */
export function profileContext(c: Context, p: Profile): Context {
  const g = c.globals;
  const ownPassword = g.passwordFile !== undefined || g.passwordCommand !== undefined;
  const globals: GlobalOptions = {
    ...g,
    repo: g.repo ?? p.repository,
    ...(ownPassword || !p.passwordFile ? {} : { passwordFile: p.passwordFile }),
    ...(ownPassword || !p.passwordCommand ? {} : { passwordCommand: p.passwordCommand }),
    ...(g.limitUpload === undefined && p.limits.limitUpload !== undefined ? { limitUpload: p.limits.limitUpload } : {}),
    ...(g.limitDownload === undefined && p.limits.limitDownload !== undefined ? { limitDownload: p.limits.limitDownload } : {}),
  };
  return { ...makeContext(globals, c.signal), out: c.out };
}

/** The `backup` flags a profile stands for (profile keys map 1:1 to them). */
export function backupFlagsOf(p: Profile, dryRun: boolean): BackupFlags {
  const b = p.backup;
  return {
    tag: [...b.tags],
    ...(b.host ? { host: b.host } : {}),
    exclude: [...b.exclude],
    iexclude: [...b.iexclude],
    excludeFile: [...b.excludeFile],
    iexcludeFile: [...b.iexcludeFile],
    excludeCaches: b.excludeCaches,
    excludeIfPresent: [...b.excludeIfPresent],
    ...(b.excludeLargerThan ? { excludeLargerThan: b.excludeLargerThan } : {}),
    oneFileSystem: b.oneFileSystem,
    filesFrom: [...b.filesFrom],
    filesFromVerbatim: [...b.filesFromVerbatim],
    filesFromRaw: [...b.filesFromRaw],
    stdinFilename: 'stdin',
    dryRun,
    gitIgnore: b.gitIgnore,
    xattrs: b.xattrs,
    ...(b.compression !== undefined ? { compression: String(b.compression) } : {}),
  };
}

/** One open repository for a profile's steps, with the profile's password source (`password-env` unless a flag names one). */
export function profileSession(c: Context, pc: Context, p: Profile): SharedSession {
  const g = c.globals;
  return new SharedSession(pc, async () => {
    if (p.passwordEnv && g.passwordFile === undefined && g.passwordCommand === undefined) {
      const v = process.env[p.passwordEnv];
      if (!v) throw new NoPasswordError(`profile ${p.name}: the environment variable ${p.passwordEnv} (password-env) is ${v === undefined ? 'not set' : 'empty'}`);
      return v;
    }
    return await password(pc);
  });
}

/** The commands' code bound to one profile, sharing one open repository. */
export function profileSteps(c: Context, p: Profile): ProfileSteps {
  const pc = profileContext(c, p);
  const session = profileSession(c, pc, p);
  const host = p.backup.host ?? Repository.defaultUser.hostname;
  const fromFiles = p.backup.filesFrom.length + p.backup.filesFromVerbatim.length + p.backup.filesFromRaw.length > 0;
  return {
    async backup({ sourceMap, dryRun }) {
      const r = await performBackup(pc, p.backup.paths, backupFlagsOf(p, dryRun), { session: session.run, ...(sourceMap ? { sourceMap } : {}) });
      return r;
    },
    async forget({ dryRun }) {
      // only this profile's snapshots: its host, its tags (all of them) and its paths
      const filter = {
        hosts: [host],
        tags: p.backup.tags.length ? [p.backup.tags.join(',')] : [],
        paths: fromFiles ? [] : [...p.backup.paths],
      };
      const r = await performForget(pc, { refs: [], policy: p.retention, groupBy: parseGroupBy(p.groupBy), filter, dryRun }, { session: session.run });
      return { removed: r.removed.length, failed: r.failed.length };
    },
    async prune({ dryRun }) {
      // as `pybackup prune` with its defaults (--max-unused 5%)
      await performPrune(pc, { maxUnused: '5%', ...(dryRun ? { dryRun } : {}) }, { session: session.run });
    },
    async check({ subset }) {
      await performCheck(pc, subset ? { readData: parseSubset(subset, parseSize) } : {}, { session: session.run });
    },
    repositoryId: async () => await session.repositoryId(),
    close: async () => await session.close(),
  };
}
