/**
 * When a profile runs. A schedule is a string in one of these forms (case-insensitive, whitespace-tolerant):
 *
 * - `hourly` / `hourly :MM`                 every hour at minute MM (default :00)
 * - `daily` / `daily HH:MM`                 every day (default 00:00)
 * - `weekly DAYS` / `weekly DAYS HH:MM`     DAYS: mon..sun (or full names), comma lists and ranges (`mon-fri`)
 * - `monthly` / `monthly D [HH:MM]`         day D (1-28; a cron expression reaches 29-31 and `L`)
 * - `every DURATION`                        an interval after the previous run: `6h`, `90m`, `1h30m`, `2d`, `1w`
 * - a 5-field cron expression or a nickname (`@daily`, `@hourly`, ...), evaluated by croner
 *
 * Calendar forms are cron expressions underneath, evaluated in a time zone (the local one unless given), so daylight
 * saving time behaves as croner defines it: a run inside a skipped hour happens at the first valid time after it, a
 * repeated hour runs once. `every` is anchored at the previous run, not at the clock.
 */
import { Cron } from 'croner';
import { UsageError } from '../errors.ts';

export type Schedule =
  | { readonly kind: 'hourly'; readonly minute: number }
  | { readonly kind: 'daily'; readonly hour: number; readonly minute: number }
  /** days: 0 = Sunday ... 6 = Saturday (cron numbering), ascending, unique */
  | { readonly kind: 'weekly'; readonly days: readonly number[]; readonly hour: number; readonly minute: number }
  | { readonly kind: 'monthly'; readonly day: number; readonly hour: number; readonly minute: number }
  | { readonly kind: 'every'; readonly ms: number }
  | { readonly kind: 'cron'; readonly expression: string };

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const FULL_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const FORMS = '`hourly [:MM]`, `daily [HH:MM]`, `weekly DAYS [HH:MM]`, `monthly [D] [HH:MM]`, `every 6h`, or a 5-field cron expression';
const MINUTE = 60_000;
const INTERVAL_UNITS: Readonly<Record<string, number>> = { m: MINUTE, h: 60 * MINUTE, d: 24 * 60 * MINUTE, w: 7 * 24 * 60 * MINUTE };
/** the longest interval: a year (longer ones are surely a typo) */
const MAX_INTERVAL = 366 * 24 * 60 * MINUTE;

function fail(text: string, why: string): never {
  throw new UsageError(`invalid schedule ${JSON.stringify(text)}: ${why}`);
}

/**
 * An interval such as `6h`, `90m`, `1h30m`, `2d`, `1w` in milliseconds (units m, h, d, w; at least one minute).
 * Also the syntax of `prune-every` / `check-every`.
 */
export function parseInterval(text: string): number {
  const s = text.trim().toLowerCase().replaceAll(/\s+/g, '');
  if (s === '') throw new UsageError('invalid interval "": expected a number and a unit m, h, d or w (e.g. 6h, 90m, 7d)');
  let ms = 0;
  for (const part of s.matchAll(/(\d+)([a-z]*)|(.)/g)) {
    if (part[3] !== undefined || part[1] === undefined) throw new UsageError(`invalid interval ${JSON.stringify(text)}: expected numbers with units m, h, d or w (e.g. 6h, 1h30m, 7d)`);
    const unit = INTERVAL_UNITS[part[2] ?? ''];
    if (unit === undefined) {
      throw new UsageError(`invalid interval ${JSON.stringify(text)}: ${part[2] ? `unknown unit ${JSON.stringify(part[2])}` : `no unit after ${part[1]}`} (units: m, h, d, w)`);
    }
    ms += Number(part[1]) * unit;
    if (ms > MAX_INTERVAL) throw new UsageError(`invalid interval ${JSON.stringify(text)}: longer than a year`);
  }
  if (ms < MINUTE) throw new UsageError(`invalid interval ${JSON.stringify(text)}: must be at least one minute`);
  return ms;
}

/** The canonical text of an interval (`1h30m`); parseInterval reads it back to the same value. */
export function formatInterval(ms: number): string {
  let left = Math.round(ms / MINUTE) * MINUTE;
  let out = '';
  for (const [unit, size] of Object.entries(INTERVAL_UNITS).reverse()) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out || '0m';
}

function parseTime(text: string, t: string | undefined): { hour: number; minute: number } {
  if (t === undefined) return { hour: 0, minute: 0 };
  const m = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (!m) fail(text, `expected a time HH:MM, got ${JSON.stringify(t)}`);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) fail(text, `no such time of day: ${t}`);
  return { hour, minute };
}

function parseDay(text: string, d: string): number {
  const i = DAY_NAMES.indexOf(d as (typeof DAY_NAMES)[number]);
  const j = FULL_DAYS.indexOf(d as (typeof FULL_DAYS)[number]);
  const k = i >= 0 ? i : j;
  if (k < 0) fail(text, `unknown day ${JSON.stringify(d)} (use mon, tue, wed, thu, fri, sat, sun)`);
  return k;
}

function parseDays(text: string, spec: string): number[] {
  const days = new Set<number>();
  for (const item of spec.split(',')) {
    if (item === '') fail(text, 'empty day in the list');
    const [a, b, extra] = item.split('-');
    if (extra !== undefined || a === undefined) fail(text, `invalid day range ${JSON.stringify(item)}`);
    const from = parseDay(text, a);
    if (b === undefined) {
      days.add(from);
      continue;
    }
    const to = parseDay(text, b);
    // ranges run forward through the week: fri-mon is fri, sat, sun, mon
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/** Parses a schedule (see the module comment); throws UsageError naming what is wrong and the accepted forms. */
export function parseSchedule(text: string): Schedule {
  const s = text.trim().toLowerCase().replaceAll(/\s+/g, ' ');
  if (s === '') fail(text, `empty; use ${FORMS}`);
  const words = s.split(' ');
  const [head, ...rest] = words as [string, ...string[]];
  const tooMany = (max: number): void => {
    if (rest.length > max) fail(text, `unexpected ${JSON.stringify(rest.slice(max).join(' '))}`);
  };
  switch (head) {
    case 'hourly': {
      tooMany(1);
      const m = rest[0];
      if (m === undefined) return { kind: 'hourly', minute: 0 };
      const mm = /^:?(\d{1,2})$/.exec(m);
      if (!mm || Number(mm[1]) > 59) fail(text, `expected a minute :MM (00-59), got ${JSON.stringify(m)}`);
      return { kind: 'hourly', minute: Number(mm[1]) };
    }
    case 'daily':
      tooMany(1);
      return { kind: 'daily', ...parseTime(text, rest[0]) };
    case 'weekly': {
      tooMany(2);
      if (rest[0] === undefined) fail(text, 'name the day(s): e.g. `weekly mon 03:00` or `weekly mon-fri 18:00`');
      return { kind: 'weekly', days: parseDays(text, rest[0]), ...parseTime(text, rest[1]) };
    }
    case 'monthly': {
      tooMany(2);
      let day = 1;
      let time = rest[0];
      if (rest[0] !== undefined && /^\d+$/.test(rest[0])) {
        day = Number(rest[0]);
        time = rest[1];
        if (day < 1 || day > 28) fail(text, 'the day of the month must be from 1 to 28 (use a cron expression for 29-31 or `L`)');
      } else if (rest.length > 1) fail(text, `expected a day of the month, got ${JSON.stringify(rest[0])}`);
      return { kind: 'monthly', day, ...parseTime(text, time) };
    }
    case 'every': {
      if (rest.length === 0) fail(text, 'give an interval: e.g. `every 6h`');
      try {
        return { kind: 'every', ms: parseInterval(rest.join('')) };
      } catch (e) {
        fail(text, (e as Error).message.replace(/^invalid interval "[^"]*": /, ''));
      }
    }
  }
  if (head.startsWith('@') || words.length === 5) {
    const expression = head.startsWith('@') ? head : words.join(' ');
    if (head.startsWith('@') && words.length > 1) fail(text, `unexpected ${JSON.stringify(rest.join(' '))} after ${head}`);
    try {
      const c = cronOf(expression, 'UTC');
      if (c.nextRun(new Date(0)) === null) fail(text, 'the cron expression never matches a date');
    } catch (e) {
      if (e instanceof UsageError) throw e;
      fail(text, (e as Error).message.replace(/^CronPattern: /, ''));
    }
    return { kind: 'cron', expression };
  }
  if (words.length > 1 && words.every((w) => /^[\d*,/?lw#a-z-]+$/.test(w)) && /[\d*]/.test(s)) {
    fail(text, `a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has ${words.length}`);
  }
  fail(text, `unknown form; use ${FORMS}`);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The canonical text of a schedule; parseSchedule reads it back to an equal value. */
export function formatSchedule(s: Schedule): string {
  const at = (x: { hour: number; minute: number }): string => `${pad(x.hour)}:${pad(x.minute)}`;
  switch (s.kind) {
    case 'hourly':
      return s.minute === 0 ? 'hourly' : `hourly :${pad(s.minute)}`;
    case 'daily':
      return `daily ${at(s)}`;
    case 'weekly':
      return `weekly ${s.days.map((d) => DAY_NAMES[d]).join(',')} ${at(s)}`;
    case 'monthly':
      return `monthly ${s.day} ${at(s)}`;
    case 'every':
      return `every ${formatInterval(s.ms)}`;
    case 'cron':
      return s.expression;
  }
}

/** The cron expression of a calendar schedule (undefined for `every`). */
export function cronExpression(s: Schedule): string | undefined {
  switch (s.kind) {
    case 'hourly':
      return `${s.minute} * * * *`;
    case 'daily':
      return `${s.minute} ${s.hour} * * *`;
    case 'weekly':
      return `${s.minute} ${s.hour} * * ${s.days.join(',')}`;
    case 'monthly':
      return `${s.minute} ${s.hour} ${s.day} * *`;
    case 'every':
      return undefined;
    case 'cron':
      return s.expression;
  }
}

function cronOf(expression: string, timeZone: string | undefined): Cron {
  return new Cron(expression, { paused: true, mode: '5-part', ...(timeZone ? { timezone: timeZone } : {}) });
}

/**
 * The first run strictly after `after`. For `every` that is `after` + the interval (pass the previous run).
 * `timeZone`: an IANA zone for calendar forms (default: the process's local zone). Undefined if it never runs again.
 */
export function nextRunAfter(s: Schedule, after: Date, o: { timeZone?: string } = {}): Date | undefined {
  if (s.kind === 'every') return new Date(after.getTime() + s.ms);
  const expr = cronExpression(s) as string;
  let c: Cron;
  try {
    c = cronOf(expr, o.timeZone);
    return c.nextRun(after) ?? undefined;
  } catch (e) {
    throw new UsageError(`cannot evaluate schedule ${JSON.stringify(formatSchedule(s))}${o.timeZone ? ` in time zone ${o.timeZone}` : ''}: ${(e as Error).message}`);
  }
}

/**
 * When a profile is next due: the first slot after its last run, which may lie in the past (a missed run is due at
 * once). Without a previous run, a calendar schedule waits for its next slot after `now`; `every` is due at once.
 */
export function nextDue(s: Schedule, o: { now: Date; lastRun?: Date | undefined; timeZone?: string }): Date | undefined {
  const tz = o.timeZone ? { timeZone: o.timeZone } : {};
  if (o.lastRun === undefined) return s.kind === 'every' ? o.now : nextRunAfter(s, o.now, tz);
  return nextRunAfter(s, o.lastRun, tz);
}
