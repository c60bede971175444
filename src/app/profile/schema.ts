/**
 * The keys of a profile (docs/design.md §18). Backup keys map 1:1 to `backup` flags, retention keys to `forget`'s
 * `--keep-*` flags; values are checked with the same parsers the commands use, so a file that passes
 * `config check` does not fail later on a malformed value.
 */
import { homedir } from 'node:os';
import { isAbsolute, normalize } from 'node:path';
import { parseTagSpec } from '../../archiver/excludes.ts';
import { compileResticPattern } from '../../archiver/exclude-patterns.ts';
import { parseSize } from '../../archiver/size.ts';
import { parseSubset } from '../../checker/subset.ts';
import { UsageError } from '../../errors.ts';
import { parseDuration } from '../../prune/duration.ts';
import { parseGroupBy } from '../../prune/group.ts';
import { parsePeriod } from '../../scheduler/period.ts';
import { parseInterval, parseSchedule } from '../../scheduler/schedule.ts';
import type { Fields, Spec } from './validate.ts';

/** An absolute path; `~/x` is expanded to the home directory. Relative paths are refused (cron has no useful cwd). */
export function absolutePath(v: string): string {
  const p = v === '~' || v.startsWith('~/') ? homedir() + v.slice(1) : v;
  if (!isAbsolute(p)) throw new UsageError(`${JSON.stringify(v)} is not an absolute path (write it from / or ~/)`);
  const n = normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

const nonEmpty = (what: string) => (v: string): string => {
  if (v.trim() === '') throw new UsageError(`${what} is empty`);
  return v;
};

const pattern = (insensitive: boolean) => (v: string): string => {
  compileResticPattern(v, insensitive, insensitive ? 'iexclude' : 'exclude');
  return v;
};

const tag = (v: string): string => {
  const t = v.trim();
  if (t === '' || t.includes(',')) throw new UsageError(`invalid tag ${JSON.stringify(v)}: tags are non-empty and contain no comma`);
  return t;
};

const envName = (v: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new UsageError(`${JSON.stringify(v)} is not an environment variable name`);
  return v;
};

const duration = (v: string): string => {
  const d = parseDuration(v);
  if (d.years < 0 || d.months < 0 || d.days < 0 || d.hours < 0) throw new UsageError(`durations containing negative values are not allowed (got ${JSON.stringify(v)})`);
  return v;
};

/** `n/t`, `x%`, a size, or `rotate/t` (part n+1 after the part read last, remembered in the state file). */
export function checkSubset(v: string): string {
  const rotate = /^\s*rotate\s*\/\s*(\d+)\s*$/.exec(v);
  if (rotate) {
    const t = Number(rotate[1]);
    if (t < 1 || t > 10_000) throw new UsageError(`invalid subset ${JSON.stringify(v)}: rotate/T needs T from 1 to 10000`);
    return v;
  }
  parseSubset(v, parseSize);
  return v;
}

const IONICE = /^(idle|best-effort(?::[0-7])?)$/;
const ionice = (v: string): string => {
  if (!IONICE.test(v)) throw new UsageError(`invalid ionice ${JSON.stringify(v)}: use "idle", "best-effort" or "best-effort:N" (N = 0 highest .. 7 lowest)`);
  return v;
};

const str = (check?: (v: string) => unknown): Spec => (check ? { kind: 'string', check } : { kind: 'string' });
const strs = (check?: (v: string) => unknown): Spec => (check ? { kind: 'strings', check } : { kind: 'strings' });
const bool: Spec = { kind: 'bool' };
const count: Spec = { kind: 'count' };
const commands = strs(nonEmpty('the command'));

export const RETENTION_FIELDS: Fields = {
  'keep-last': count,
  'keep-hourly': count,
  'keep-daily': count,
  'keep-weekly': count,
  'keep-monthly': count,
  'keep-yearly': count,
  'keep-within': str(duration),
  'keep-within-hourly': str(duration),
  'keep-within-daily': str(duration),
  'keep-within-weekly': str(duration),
  'keep-within-monthly': str(duration),
  'keep-within-yearly': str(duration),
  'keep-tag': strs(),
  'group-by': str((v) => parseGroupBy(v) && v),
};

export const HOOK_FIELDS: Fields = {
  before: commands,
  after: commands,
  'on-failure': commands,
  timeout: str(parseInterval),
};

export const SNAPSHOT_FIELDS: Fields = {
  create: commands,
  remove: commands,
  mount: str(absolutePath),
  origin: str(absolutePath),
};

export const LIMIT_FIELDS: Fields = {
  nice: { kind: 'int', min: -20, max: 19 },
  ionice: str(ionice),
  'limit-upload': { kind: 'int', min: 1, max: 2 ** 31, unit: 'KiB/s' },
  'limit-download': { kind: 'int', min: 1, max: 2 ** 31, unit: 'KiB/s' },
};

/** `pybackup watch` (continuous protection): how long changes must settle, how often to rescan everything anyway */
export const WATCH_FIELDS: Fields = {
  'quiet-period': str((v) => parsePeriod(v, { what: 'quiet period', min: 100, max: 86_400_000 })),
  'rescan-every': str((v) => parsePeriod(v, { what: 'rescan interval', min: 1000, max: 7 * 86_400_000 })),
};

export const PROFILE_FIELDS: Fields = {
  description: str(),
  repository: str(nonEmpty('the repository')),
  'password-file': str(absolutePath),
  'password-command': str(nonEmpty('the password command')),
  'password-env': str(envName),
  paths: strs(absolutePath),
  'files-from': strs(absolutePath),
  'files-from-verbatim': strs(absolutePath),
  'files-from-raw': strs(absolutePath),
  exclude: strs(pattern(false)),
  iexclude: strs(pattern(true)),
  'exclude-file': strs(absolutePath),
  'iexclude-file': strs(absolutePath),
  'exclude-caches': bool,
  'exclude-if-present': strs((v) => parseTagSpec(v) && v),
  'exclude-larger-than': { kind: 'size', check: parseSize },
  'one-file-system': bool,
  'git-ignore': bool,
  xattrs: bool,
  tags: strs(tag),
  host: str(nonEmpty('the host name')),
  compression: { kind: 'int', min: 0, max: 19, unit: '(zstd level; 0 = off)' },
  schedule: str((v) => parseSchedule(v) && v),
  retention: { kind: 'table', fields: RETENTION_FIELDS },
  'prune-every': str(parseInterval),
  check: bool,
  'check-read-data-subset': str(checkSubset),
  'check-every': str(parseInterval),
  hooks: { kind: 'table', fields: HOOK_FIELDS },
  snapshot: { kind: 'table', fields: SNAPSHOT_FIELDS },
  limits: { kind: 'table', fields: LIMIT_FIELDS },
  // smart scheduling (the daemon defers a due run while a condition holds, at most max-delay)
  'defer-if-load-above': { kind: 'number', min: 0.01, max: 1000, unit: '(1-minute load average per core)' },
  'defer-on-battery': bool,
  'max-delay': str(parseInterval),
  watch: { kind: 'table', fields: WATCH_FIELDS },
};

export const TOP_FIELDS = ['defaults', 'profiles'] as const;

const TABLES: readonly (readonly [string, Fields])[] = [
  ['retention', RETENTION_FIELDS],
  ['hooks', HOOK_FIELDS],
  ['snapshot', SNAPSHOT_FIELDS],
  ['limits', LIMIT_FIELDS],
  ['watch', WATCH_FIELDS],
];

/** Where a key that is unknown in one table belongs instead ("keep-daily" -> the [retention] table). */
export function belongsElsewhere(key: string): string | undefined {
  if (Object.hasOwn(PROFILE_FIELDS, key)) return `"${key}" (a key of the profile itself)`;
  for (const [name, fields] of TABLES) if (Object.hasOwn(fields, key)) return `"${name}.${key}" (in the profile's [${name}] table)`;
  const flat = /^(snapshot|hook)s?-(.+)$/.exec(key);
  if (flat) {
    const [name, fields] = flat[1] === 'snapshot' ? (['snapshot', SNAPSHOT_FIELDS] as const) : (['hooks', HOOK_FIELDS] as const);
    if (Object.hasOwn(fields, flat[2] as string)) return `"${name}.${flat[2]}" (in the profile's [${name}] table)`;
  }
  return undefined;
}
