import { UsageError } from '../../errors.ts';
import { isZeroDuration, parseDuration, type RetentionDuration } from '../../prune/duration.ts';
import type { RetentionPolicy } from '../../prune/policy.ts';

/** The --keep-* flags as commander hands them over (raw strings; parsed here so errors are UsageErrors). */
export interface KeepFlags {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepWithinHourly?: string;
  keepWithinDaily?: string;
  keepWithinWeekly?: string;
  keepWithinMonthly?: string;
  keepWithinYearly?: string;
  keepTag: string[];
}

/**
 * A --keep-<period> count: a whole number, or "unlimited" (also -1, which restic before 0.17 took for it).
 * 0 turns the rule off, as in restic.
 */
export function parseKeepCount(flag: string, raw: string): number {
  const s = raw.trim();
  if (s === 'unlimited') return -1;
  if (!/^[+-]?\d+$/.test(s)) throw new UsageError(`${flag}: invalid value ${JSON.stringify(raw)}: give a whole number of snapshots/periods or "unlimited"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: ${JSON.stringify(raw)} is too large`);
  if (n === -1) return -1;
  if (n < 0) throw new UsageError(`${flag}: negative values are not allowed, use "unlimited" to keep all (got ${JSON.stringify(raw)})`);
  return n;
}

export function parseKeepWithin(flag: string, raw: string): RetentionDuration {
  let d: RetentionDuration;
  try {
    d = parseDuration(raw);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  if (d.years < 0 || d.months < 0 || d.days < 0 || d.hours < 0) throw new UsageError(`${flag}: durations containing negative values are not allowed (got ${JSON.stringify(raw)})`);
  return d;
}

/** "a,b" = a snapshot with both tags; whitespace around each tag is dropped; "" = snapshots without tags. */
export function parseKeepTag(raw: string): string[] {
  return raw.split(',').map((t) => t.trim());
}

export function policyFromFlags(f: KeepFlags): RetentionPolicy {
  const p: { -readonly [K in keyof RetentionPolicy]: RetentionPolicy[K] } = {};
  const counts = [
    ['last', '--keep-last', f.keepLast],
    ['hourly', '--keep-hourly', f.keepHourly],
    ['daily', '--keep-daily', f.keepDaily],
    ['weekly', '--keep-weekly', f.keepWeekly],
    ['monthly', '--keep-monthly', f.keepMonthly],
    ['yearly', '--keep-yearly', f.keepYearly],
  ] as const;
  for (const [key, flag, raw] of counts) if (raw !== undefined) p[key] = parseKeepCount(flag, raw);
  const durations = [
    ['within', '--keep-within', f.keepWithin],
    ['withinHourly', '--keep-within-hourly', f.keepWithinHourly],
    ['withinDaily', '--keep-within-daily', f.keepWithinDaily],
    ['withinWeekly', '--keep-within-weekly', f.keepWithinWeekly],
    ['withinMonthly', '--keep-within-monthly', f.keepWithinMonthly],
    ['withinYearly', '--keep-within-yearly', f.keepWithinYearly],
  ] as const;
  for (const [key, flag, raw] of durations) {
    if (raw === undefined) continue;
    const d = parseKeepWithin(flag, raw);
    if (!isZeroDuration(d)) p[key] = d;
  }
  if (f.keepTag.length) p.tags = f.keepTag.map(parseKeepTag);
  return p;
}
