import { UsageError } from '../errors.ts';

/**
 * A calendar duration as restic's `--keep-within*` flags take it: `1y2m3d4h` (years, months, days, hours). Months
 * and years are calendar units (applied with restic's AddDate semantics, see calendar.ts), not fixed lengths.
 */
export interface RetentionDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

export const ZERO_DURATION: RetentionDuration = { years: 0, months: 0, days: 0, hours: 0 };

/**
 * Parses restic's duration format: a sequence of `<integer><unit>` with units y, m, d, h, in any order; a later
 * number for the same unit replaces the earlier one (as restic's ParseDuration does); surrounding whitespace is
 * ignored; the empty string is the zero duration. Negative numbers parse (restic's parser allows them) and are
 * refused by `validatePolicy` (policy.ts).
 */
export function parseDuration(input: string): RetentionDuration {
  let s = input.trim();
  const d = { years: 0, months: 0, days: 0, hours: 0 };
  while (s !== '') {
    const m = /^(-?)(\d*)/.exec(s) as RegExpExecArray;
    const digits = m[2] ?? '';
    if (digits === '') throw new UsageError(`invalid duration ${JSON.stringify(input)}: no number found at ${JSON.stringify(s)} (use e.g. 1y2m3d4h)`);
    const n = Number(digits) * (m[1] === '-' ? -1 : 1);
    if (!Number.isSafeInteger(n)) throw new UsageError(`invalid duration ${JSON.stringify(input)}: number ${digits} is too large`);
    s = s.slice(m[0].length);
    const unit = s[0];
    if (unit === undefined) throw new UsageError(`invalid duration ${JSON.stringify(input)}: no unit found after number ${n} (units: y, m, d, h)`);
    if (unit === 'y') d.years = n;
    else if (unit === 'm') d.months = n;
    else if (unit === 'd') d.days = n;
    else if (unit === 'h') d.hours = n;
    else throw new UsageError(`invalid duration ${JSON.stringify(input)}: invalid unit ${JSON.stringify(unit)} after number ${n} (units: y, m, d, h)`);
    s = s.slice(1);
  }
  return d;
}

export function isZeroDuration(d: RetentionDuration | undefined): boolean {
  return d === undefined || (d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0);
}

/** restic's Duration.String(): the non-zero parts in the order y, m, d, h ("" for zero). */
export function formatDuration(d: RetentionDuration): string {
  return `${d.years ? `${d.years}y` : ''}${d.months ? `${d.months}m` : ''}${d.days ? `${d.days}d` : ''}${d.hours ? `${d.hours}h` : ''}`;
}
