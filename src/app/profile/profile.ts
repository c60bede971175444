/**
 * A profile as the runner uses it: the checked values of one `[profiles.NAME]` table merged over `[defaults]`
 * (a key in the profile replaces the default's value; the sub-tables merge key by key).
 */
import { parseDuration } from '../../prune/duration.ts';
import type { RetentionPolicy } from '../../prune/policy.ts';
import { parseSchedule, type Schedule } from '../../scheduler/schedule.ts';
import { isTable, type Problem, showPath } from './validate.ts';

export interface Hooks {
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly onFailure: readonly string[];
  readonly timeoutMs?: number;
}

export interface SnapshotStep {
  readonly create: readonly string[];
  readonly remove: readonly string[];
  /** where the filesystem snapshot of `origin` is visible */
  readonly mount: string;
  /** the path the snapshot is of; the profile's paths lie inside it and are recorded as they are */
  readonly origin: string;
}

export interface Limits {
  readonly nice?: number;
  readonly ionice?: { readonly class: 'idle' | 'best-effort'; readonly level?: number };
  /** KiB/s, as the --limit-upload / --limit-download flags */
  readonly limitUpload?: number;
  readonly limitDownload?: number;
}

export interface Profile {
  readonly name: string;
  readonly description?: string;
  readonly repository: string;
  readonly passwordFile?: string;
  readonly passwordCommand?: string;
  readonly passwordEnv?: string;
  /** the `backup` flags, by their option names */
  readonly backup: {
    readonly paths: readonly string[];
    readonly filesFrom: readonly string[];
    readonly filesFromVerbatim: readonly string[];
    readonly filesFromRaw: readonly string[];
    readonly exclude: readonly string[];
    readonly iexclude: readonly string[];
    readonly excludeFile: readonly string[];
    readonly iexcludeFile: readonly string[];
    readonly excludeCaches: boolean;
    readonly excludeIfPresent: readonly string[];
    readonly excludeLargerThan?: string;
    readonly oneFileSystem: boolean;
    readonly gitIgnore: boolean;
    readonly xattrs: boolean;
    readonly tags: readonly string[];
    readonly host?: string;
    readonly compression?: number;
  };
  readonly schedule?: Schedule;
  readonly retention: RetentionPolicy;
  readonly groupBy: string;
  readonly pruneEveryMs?: number;
  readonly check: boolean;
  readonly checkReadDataSubset?: string;
  readonly checkEveryMs?: number;
  readonly hooks: Hooks;
  readonly snapshot?: SnapshotStep;
  readonly limits: Limits;
  /** smart scheduling: the daemon defers a due run while a condition holds, for at most maxDelayMs */
  readonly defer?: { readonly loadAbove?: number; readonly onBattery: boolean; readonly maxDelayMs?: number };
  /** `pybackup watch` settings */
  readonly watch?: { readonly quietMs?: number; readonly rescanMs?: number };
}

type Raw = Record<string, unknown>;

const PASSWORD_KEYS = ['password-file', 'password-command', 'password-env'];

/**
 * `defaults` under `profile`: sub-tables merge key by key, other keys are replaced; a password source in the
 * profile replaces the default's, whichever kind it is.
 */
export function mergeOver(defaults: Raw, profile: Raw): Raw {
  const out: Raw = { ...defaults };
  if (PASSWORD_KEYS.some((k) => k in profile)) for (const k of PASSWORD_KEYS) delete out[k];
  for (const [k, v] of Object.entries(profile)) {
    const d = out[k];
    out[k] = isTable(d) && isTable(v) ? { ...d, ...v } : v;
  }
  return out;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
const opt = <K extends string, T>(key: K, v: T | undefined): { [P in K]?: T } => (v === undefined ? {} : ({ [key]: v } as { [P in K]?: T }));

function retentionOf(r: Raw): RetentionPolicy {
  const p: { -readonly [K in keyof RetentionPolicy]: RetentionPolicy[K] } = {};
  const counts = [['last', 'keep-last'], ['hourly', 'keep-hourly'], ['daily', 'keep-daily'], ['weekly', 'keep-weekly'], ['monthly', 'keep-monthly'], ['yearly', 'keep-yearly']] as const;
  for (const [key, name] of counts) if (typeof r[name] === 'number') p[key] = r[name];
  const durations = [
    ['within', 'keep-within'],
    ['withinHourly', 'keep-within-hourly'],
    ['withinDaily', 'keep-within-daily'],
    ['withinWeekly', 'keep-within-weekly'],
    ['withinMonthly', 'keep-within-monthly'],
    ['withinYearly', 'keep-within-yearly'],
  ] as const;
  for (const [key, name] of durations) if (typeof r[name] === 'string') p[key] = parseDuration(r[name]);
  const tags = list(r['keep-tag']);
  if (tags.length) p.tags = tags.map((t) => t.split(',').map((x) => x.trim()));
  return p;
}

function ioniceOf(v: unknown): Limits['ionice'] {
  if (typeof v !== 'string') return undefined;
  const [cls, level] = v.split(':');
  return cls === 'idle' ? { class: 'idle' } : { class: 'best-effort', ...opt('level', level === undefined ? undefined : Number(level)) };
}

/**
 * Builds a profile from its checked (and merged) values (`written`: the keys present in the file, valid or not, so
 * that a bad value is not reported a second time as a missing one); records the problems that involve several keys: no
 * repository, nothing to back up, two password sources, a snapshot step whose origin does not hold the paths.
 */
export function buildProfile(name: string, r: Raw, written: ReadonlySet<string>, path: (string | number)[], problems: Problem[]): Profile | undefined {
  const before = problems.length;
  const at = (key: string): (string | number)[] => [...path, key];
  if (!written.has('repository')) {
    problems.push({ path, message: `${showPath(path)}: no repository: set "repository" in the profile or in [defaults]`, at: 'key' });
  }
  const paths = list(r.paths);
  const fromFiles = ['files-from', 'files-from-verbatim', 'files-from-raw'].some((k) => list(r[k]).length > 0);
  if (paths.length === 0 && !fromFiles && !['paths', 'files-from', 'files-from-verbatim', 'files-from-raw'].some((k) => written.has(k) && r[k] === undefined)) {
    problems.push({ path: r.paths === undefined ? path : at('paths'), message: `${showPath(path)}: nothing to back up: set "paths" (or "files-from")`, at: 'key' });
  }
  const sources = ['password-file', 'password-command', 'password-env'].filter((k) => r[k] !== undefined);
  if (sources.length > 1) {
    problems.push({ path: at(sources[1] as string), message: `${showPath(path)}: ${sources.map((s) => `"${s}"`).join(' and ')} are mutually exclusive: give one password source`, at: 'key' });
  }
  const s = isTable(r.snapshot) ? r.snapshot : undefined;
  let snapshot: SnapshotStep | undefined;
  if (s) {
    const origin = typeof s.origin === 'string' ? s.origin : paths.length === 1 ? paths[0] : undefined;
    if (typeof s.mount !== 'string') problems.push({ path: at('snapshot'), message: `${showPath(at('snapshot'))}: "mount" is missing: where does the snapshot appear?`, at: 'key' });
    if (origin === undefined) problems.push({ path: at('snapshot'), message: `${showPath(at('snapshot'))}: "origin" is missing: name the path the snapshot is of (needed with more than one path)`, at: 'key' });
    if (fromFiles) problems.push({ path: at('snapshot'), message: `${showPath(path)}: a snapshot step works with "paths", not with "files-from"`, at: 'key' });
    if (origin !== undefined) {
      paths.forEach((p, i) => {
        if (p !== origin && !p.startsWith(origin === '/' ? '/' : `${origin}/`)) {
          problems.push({ path: [...at('paths'), i], message: `${showPath([...at('paths'), i])}: ${p} is not inside the snapshot origin ${origin}`, at: 'key' });
        }
      });
    }
    if (typeof s.mount === 'string' && origin !== undefined) {
      snapshot = { create: list(s.create), remove: list(s.remove), mount: s.mount, origin };
    }
  }
  if (problems.length > before) return undefined;
  const h = isTable(r.hooks) ? r.hooks : {};
  const l = isTable(r.limits) ? r.limits : {};
  const ret = isTable(r.retention) ? r.retention : {};
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  return {
    name,
    ...opt('description', str(r.description)),
    repository: r.repository as string,
    ...opt('passwordFile', str(r['password-file'])),
    ...opt('passwordCommand', str(r['password-command'])),
    ...opt('passwordEnv', str(r['password-env'])),
    backup: {
      paths,
      filesFrom: list(r['files-from']),
      filesFromVerbatim: list(r['files-from-verbatim']),
      filesFromRaw: list(r['files-from-raw']),
      exclude: list(r.exclude),
      iexclude: list(r.iexclude),
      excludeFile: list(r['exclude-file']),
      iexcludeFile: list(r['iexclude-file']),
      excludeCaches: r['exclude-caches'] === true,
      excludeIfPresent: list(r['exclude-if-present']),
      ...opt('excludeLargerThan', str(r['exclude-larger-than'])),
      oneFileSystem: r['one-file-system'] === true,
      gitIgnore: r['git-ignore'] === true,
      xattrs: r.xattrs !== false,
      tags: list(r.tags),
      ...opt('host', str(r.host)),
      ...opt('compression', num(r.compression)),
    },
    ...opt('schedule', typeof r.schedule === 'string' ? parseSchedule(r.schedule) : undefined),
    retention: retentionOf(ret),
    groupBy: str(ret['group-by']) ?? 'host,paths',
    ...opt('pruneEveryMs', num(r['prune-every'])),
    check: r.check !== false && (r.check === true || r['check-read-data-subset'] !== undefined),
    ...opt('checkReadDataSubset', r.check === false ? undefined : str(r['check-read-data-subset'])),
    ...opt('checkEveryMs', num(r['check-every'])),
    hooks: { before: list(h.before), after: list(h.after), onFailure: list(h['on-failure']), ...opt('timeoutMs', num(h.timeout)) },
    ...opt('snapshot', snapshot),
    limits: { ...opt('nice', num(l.nice)), ...opt('ionice', ioniceOf(l.ionice)), ...opt('limitUpload', num(l['limit-upload'])), ...opt('limitDownload', num(l['limit-download'])) },
    ...opt('defer', r['defer-if-load-above'] === undefined && r['defer-on-battery'] !== true && r['max-delay'] === undefined
      ? undefined
      : { ...opt('loadAbove', num(r['defer-if-load-above'])), onBattery: r['defer-on-battery'] === true, ...opt('maxDelayMs', num(r['max-delay'])) }),
    ...opt('watch', isTable(r.watch) ? { ...opt('quietMs', num(r.watch['quiet-period'])), ...opt('rescanMs', num(r.watch['rescan-every'])) } : undefined),
  };
}
