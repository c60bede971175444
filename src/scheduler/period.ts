/**
 * Short periods for the watch settings and daemon flags: `30s`, `2m`, `1m30s`, `1h`, `500ms` (units ms, s, m, h, d).
 * Schedules use parseInterval (minutes and up); these reach down to seconds.
 */
import { UsageError } from '../errors.ts';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A period in milliseconds; `min`/`max` bound it (inclusive), `what` names it in the message. */
export function parsePeriod(text: string, o: { what?: string; min?: number; max?: number } = {}): number {
  const what = o.what ?? 'period';
  const s = text.trim().toLowerCase().replaceAll(/\s+/g, '');
  const bad = (why: string): never => {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: ${why}`);
  };
  if (s === '') bad('expected a number and a unit s, m or h (e.g. 30s, 10m)');
  let ms = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d+)?)([a-z]*)|(.)/g)) {
    if (part[3] !== undefined || part[1] === undefined) bad('expected numbers with units ms, s, m, h or d (e.g. 30s, 1m30s)');
    const unit = UNITS[part[2] ?? ''];
    if (unit === undefined) bad(part[2] ? `unknown unit ${JSON.stringify(part[2])} (units: ms, s, m, h, d)` : `no unit after ${part[1]} (e.g. ${part[1]}s)`);
    ms += Number(part[1]) * (unit as number);
  }
  ms = Math.round(ms);
  if (o.min !== undefined && ms < o.min) bad(`must be at least ${formatPeriod(o.min)}`);
  if (o.max !== undefined && ms > o.max) bad(`must be at most ${formatPeriod(o.max)}`);
  return ms;
}

/** The shortest text for a period (`1m30s`, `500ms`); parsePeriod reads it back. */
export function formatPeriod(ms: number): string {
  if (ms < 1000 && ms % 1000 !== 0) return `${Math.round(ms)}ms`;
  let left = Math.round(ms / 1000);
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out || '0s';
}
