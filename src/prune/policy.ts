import { UsageError } from '../errors.ts';
import { formatDuration, isZeroDuration, type RetentionDuration } from './duration.ts';

/**
 * A retention policy with restic's `forget --keep-*` meaning. Counts: 0 or absent = rule off, N > 0 = keep N
 * periods, -1 = keep every period ("unlimited"). Durations: zero or absent = rule off.
 */
export interface RetentionPolicy {
  readonly last?: number;
  readonly hourly?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
  readonly within?: RetentionDuration;
  readonly withinHourly?: RetentionDuration;
  readonly withinDaily?: RetentionDuration;
  readonly withinWeekly?: RetentionDuration;
  readonly withinMonthly?: RetentionDuration;
  readonly withinYearly?: RetentionDuration;
  /** keep a snapshot that has every tag of at least one list; a list holding "" matches untagged snapshots */
  readonly tags?: readonly (readonly string[])[];
}

export const COUNT_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type CountRule = (typeof COUNT_RULES)[number];
export const WITHIN_RULES = ['withinHourly', 'withinDaily', 'withinWeekly', 'withinMonthly', 'withinYearly'] as const;
export type WithinRule = (typeof WITHIN_RULES)[number];

/** True when no keep rule is set (restic's ExpirePolicy.Empty): such a policy keeps nothing. */
export function isEmptyPolicy(p: RetentionPolicy): boolean {
  if ((p.tags?.length ?? 0) > 0) return false;
  if (COUNT_RULES.some((r) => (p[r] ?? 0) !== 0)) return false;
  return isZeroDuration(p.within) && WITHIN_RULES.every((r) => isZeroDuration(p[r]));
}

/** Throws a UsageError for counts other than whole numbers >= -1 and for negative durations. */
export function validatePolicy(p: RetentionPolicy): void {
  for (const r of COUNT_RULES) {
    const n = p[r] ?? 0;
    if (!Number.isSafeInteger(n) || n < -1) throw new UsageError(`keep-${r}: negative values other than -1 (unlimited) are not allowed, got ${n}`);
  }
  for (const r of ['within', ...WITHIN_RULES] as const) {
    const d = p[r];
    if (d && (d.years < 0 || d.months < 0 || d.days < 0 || d.hours < 0)) throw new UsageError('durations containing negative values are not allowed for --keep-within*');
  }
}

/** restic's TagList.String(): "[a, b]". */
export function formatTagList(l: readonly string[]): string {
  return `[${l.join(', ')}]`;
}

/** The policy in words, as restic's "Applying Policy: ..." line (ExpirePolicy.String). */
export function describePolicy(p: RetentionPolicy): string {
  const names: Record<CountRule, string> = { last: 'latest', hourly: 'hourly', daily: 'daily', weekly: 'weekly', monthly: 'monthly', yearly: 'yearly' };
  const keeps: string[] = [];
  for (const r of COUNT_RULES) {
    const n = p[r] ?? 0;
    if (n > 0) keeps.push(`${n} ${names[r]}`);
    else if (n === -1) keeps.push(`all ${names[r]}`);
  }
  const keepw: string[] = [];
  for (const r of WITHIN_RULES) {
    const d = p[r];
    if (d && !isZeroDuration(d)) keepw.push(`${r.slice('within'.length).toLowerCase()} snapshots within ${formatDuration(d)}`);
  }
  let s = keeps.length ? `${keeps.join(', ')} snapshots` : '';
  if (keepw.length) s += `${s ? ', ' : ''}${keepw.join(', ')}`;
  if (p.tags?.length) s += `${s ? ' and ' : ''}all snapshots with tags [${p.tags.map(formatTagList).join(' ')}]`;
  if (p.within && !isZeroDuration(p.within)) s += `${s ? ' and ' : ''}all snapshots within ${formatDuration(p.within)} of the newest`;
  return s ? `keep ${s}` : 'remove';
}
