import { UsageError } from '../errors.ts';

/**
 * Calendar arithmetic in an IANA time zone, reproducing what restic does with Go's `time` package on a snapshot
 * timestamp: the wall clock (year, month, day, hour) that names a retention period, ISO weeks, and
 * `AddDate(-y, -m, -d)` for `--keep-within*`. Pure: the zone is a parameter, never the process's environment.
 */
export interface WallClock {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (e) {
      throw new UsageError(`unknown time zone ${JSON.stringify(timeZone)}`, { cause: e });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a UsageError for a time zone name the platform does not know. */
export function assertTimeZone(timeZone: string): void {
  if (timeZone !== 'UTC') formatter(timeZone);
}

/** The wall clock at instant `ms` (epoch milliseconds) in `timeZone`. */
export function wallClock(ms: number, timeZone: string): WallClock {
  const millisecond = ((ms % 1000) + 1000) % 1000;
  if (timeZone === 'UTC') {
    const d = new Date(ms);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), millisecond };
  }
  const p: Record<string, number> = {};
  let bc = false;
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type === 'era') bc = part.value === 'BC';
    else if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const year = p.year ?? 0;
  return { year: bc ? 1 - year : year, month: p.month ?? 1, day: p.day ?? 1, hour: (p.hour ?? 0) % 24, minute: p.minute ?? 0, second: p.second ?? 0, millisecond };
}

/** The wall clock read as if it were UTC, with Go's normalization of out-of-range fields (Feb 31 = Mar 3 or 2). */
function asUtc(w: WallClock): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, w.millisecond);
  return d.getTime();
}

function offsetAt(ms: number, timeZone: string): number {
  return asUtc(wallClock(ms, timeZone)) - ms;
}

/**
 * The instant of a wall clock in `timeZone`, resolving skipped and repeated local times exactly as Go's
 * `time.Date` does: take the offset in force at the wall clock read as UTC; if the result falls outside that
 * offset's span, use the offset in force at the result instead.
 */
export function fromWallClock(w: WallClock, timeZone: string): number {
  const unix = asUtc(w);
  // beyond JavaScript's date range (±273,790 years): only the direction matters to the callers' comparisons
  if (!Number.isFinite(unix)) return w.year + w.month / 12 + w.day / 366 < 1970 ? -Infinity : Infinity;
  if (timeZone === 'UTC') return unix;
  const first = offsetAt(unix, timeZone);
  const utc = unix - first;
  const second = offsetAt(utc, timeZone);
  return second === first ? utc : unix - second;
}

/** Go's `t.AddDate(years, months, days)` for the instant `ms` in `timeZone` (wall clock arithmetic, normalized). */
export function addDate(ms: number, timeZone: string, years: number, months: number, days: number): number {
  const w = wallClock(ms, timeZone);
  return fromWallClock({ ...w, year: w.year + years, month: w.month + months, day: w.day + days }, timeZone);
}

/** ISO 8601 week-numbering year and week of a calendar date (Go's `ISOWeek`). */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
  d.setUTCDate(d.getUTCDate() - weekday + 3); // the Thursday of this week decides the year
  const isoYear = d.getUTCFullYear();
  const jan1 = new Date(0);
  jan1.setUTCFullYear(isoYear, 0, 1);
  return { year: isoYear, week: Math.floor((d.getTime() - jan1.getTime()) / 86_400_000 / 7) + 1 };
}

/** "2006-01-02 15:04:05" in `timeZone`, as restic prints snapshot times. */
export function formatWallClock(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  const p = (n: number, l = 2): string => String(n).padStart(l, '0');
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}
