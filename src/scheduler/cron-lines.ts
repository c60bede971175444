/**
 * crontab lines for people who prefer cron: one line per scheduled profile, inside a marked block that
 * `schedule install --cron` replaces and `schedule remove --cron` deletes, leaving the user's other lines alone.
 * Cron has no catch-up: a slot missed while the machine sleeps is skipped (the daemon or systemd timers catch up).
 */
import { UsageError } from '../errors.ts';
import { cronExpression, formatSchedule, type Schedule } from './schedule.ts';

export const BEGIN = '# BEGIN pybackup (managed by `pybackup schedule install --cron`: change the configuration file, not these lines)';
export const END = '# END pybackup';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The 5-field cron expression of a schedule; `every` only for intervals that divide an hour, a day or a week. */
export function cronFields(s: Schedule): string {
  if (s.kind !== 'every') return cronExpression(s) as string;
  const ms = s.ms;
  if (ms < HOUR && ms % MINUTE === 0 && 60 % (ms / MINUTE) === 0) return ms === MINUTE ? '* * * * *' : `*/${ms / MINUTE} * * * *`;
  if (ms < DAY && ms % HOUR === 0 && 24 % (ms / HOUR) === 0) return ms === HOUR ? '0 * * * *' : `0 */${ms / HOUR} * * *`;
  if (ms === DAY) return '0 0 * * *';
  if (ms === 7 * DAY) return '0 0 * * 0';
  throw new UsageError(`"${formatSchedule(s)}" cannot be written as a cron line (cron repeats within the hour, day or week: use e.g. every 4h, every 15m, every 1d); use the daemon or --systemd`);
}

/** A word for /bin/sh; `%` escaped, since cron turns it into a newline. */
export function shellWord(a: string): string {
  const q = /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
  return q.replaceAll('%', '\\%');
}

export interface CronInput {
  readonly profile: string;
  readonly schedule: Schedule;
  readonly configFile: string;
  readonly command: readonly string[];
}

/** The managed block for these profiles (without a trailing newline). */
export function cronBlock(entries: readonly CronInput[]): string {
  const lines = entries.map((e) => `${cronFields(e.schedule)} ${[...e.command, '--quiet', 'run', e.profile, '--config', e.configFile].map(shellWord).join(' ')}`);
  return [BEGIN, ...lines, END].join('\n');
}

/** `existing` crontab text without the managed block (other lines untouched). */
export function withoutBlock(existing: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of existing.split('\n')) {
    if (line === BEGIN) inside = true;
    else if (inside && line === END) inside = false;
    else if (!inside) out.push(line);
  }
  return out.join('\n').replace(/\n+$/, '');
}

/** `existing` crontab text with the managed block replaced (or appended); ends with a newline, as cron wants. */
export function withBlock(existing: string, block: string): string {
  const rest = withoutBlock(existing);
  return `${rest === '' ? '' : `${rest}\n`}${block}\n`;
}
