import { UsageError } from '../../errors.ts';
import type { Context } from '../context.ts';

/** For listSnapshots: a snapshot file that cannot be read is reported, not silently skipped. */
export function reportUnreadableSnapshot(c: Context): (name: string, e: unknown) => void {
  return (name, e) => c.out.warn(`error: snapshot ${name}: ${(e as Error).message}`);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "a,b" "c" -> ["a","b","c"], deduplicated, empty entries rejected. */
export function splitTags(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const t of v.split(',')) {
      const s = t.trim();
      if (!s) throw new UsageError(`empty tag in ${JSON.stringify(v)}`);
      if (!out.includes(s)) out.push(s);
    }
  }
  return out;
}

/** Accepts restic's "2006-01-02 15:04:05" (local time) and ISO 8601. */
export function parseTime(s: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  const d = m
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0'))
    : new Date(s);
  if (Number.isNaN(d.getTime())) throw new UsageError(`invalid time ${JSON.stringify(s)}: use "YYYY-MM-DD HH:MM:SS"`);
  return d;
}
