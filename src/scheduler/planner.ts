/**
 * Which profiles the daemon starts now, which wait, and when to look again. Pure: the clock, the state and the
 * condition readings are inputs (docs/design.md §19).
 *
 * - Due time: the first slot after the anchor (the start of the last run, scheduled or by hand); without a run yet,
 *   the first slot after the profile was first seen (`every`: at once). A slot in the past is due now, and however
 *   many slots passed (the machine slept for three days), the profile runs once: its next anchor is that run.
 * - After a failure, a retry comes earlier than the next slot: 15 min, doubling per consecutive failure, at most 4 h.
 * - One job per repository at a time; at most `maxJobs` jobs in all. A due profile that cannot start stays due.
 * - Conditions (load, battery) defer a due run, for at most `max-delay` after the deferral began; then it runs anyway.
 */
import { resolve } from 'node:path';
import { type DeferSettings, deferReason, type Readings } from './conditions.ts';
import type { ProfileRecord, Trigger } from './daemon-state.ts';
import { nextRunAfter, type Schedule } from './schedule.ts';

export const DEFAULT_MAX_DELAY_MS = 4 * 3_600_000;
const RETRY_BASE_MS = 15 * 60_000;
const RETRY_MAX_MS = 4 * 3_600_000;
/** a run that starts later than this after a slot that passed unseen (asleep, daemon not running) is a catch-up */
const LATE_MS = 60_000;

export interface PlanProfile {
  /** the state key (NAME@CONFIG) */
  readonly key: string;
  readonly name: string;
  readonly schedule?: Schedule | undefined;
  readonly repository: string;
  readonly defer?: (DeferSettings & { readonly maxDelayMs?: number | undefined }) | undefined;
}

export interface PlanInput {
  readonly profiles: readonly PlanProfile[];
  readonly records: Readonly<Record<string, ProfileRecord>>;
  /** the last start of a run by hand (`pybackup run`), by key */
  readonly manual?: Readonly<Record<string, string | undefined>>;
  readonly now: Date;
  /** when the daemon looked before: a slot it saw come (and then waited on) is no catch-up */
  readonly lastLook?: Date | undefined;
  /** keys of the profiles running now */
  readonly running: ReadonlySet<string>;
  readonly maxJobs: number;
  readonly readings: Readings;
  /** how soon to look again at a deferred run (default 1 min) */
  readonly recheckMs?: number;
  readonly timeZone?: string;
}

export interface Plan {
  readonly start: readonly { readonly key: string; readonly trigger: Trigger; readonly dueAt: Date }[];
  readonly defer: readonly { readonly key: string; readonly since: string; readonly reason: string; readonly until: Date }[];
  /** due, but its repository is busy or the job limit is reached */
  readonly waiting: readonly { readonly key: string; readonly reason: string }[];
  /** when something may change without an outside event (a slot, a deferral's end); undefined: nothing scheduled */
  readonly wakeAt: Date | undefined;
}

/** Profiles with the same repository location are serialized: one key per location. */
export function repositoryKey(location: string): string {
  const l = location.trim().replace(/^local:/, '');
  if (l.startsWith('/')) return resolve(l);
  return l.replace(/\/+$/, '');
}

const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : Date.parse(a) >= Date.parse(b) ? a : b);

/** When a profile is next due, and why; undefined when it has no schedule (or the schedule ends). */
export function dueAt(p: PlanProfile, rec: ProfileRecord | undefined, manual: string | undefined, now: Date, timeZone?: string, lastLook?: Date): { at: Date; trigger: Trigger } | undefined {
  if (!p.schedule) return undefined;
  const tz = timeZone ? { timeZone } : {};
  // the daemon's own jobs are recorded as runs of the profile too (by the child): those are not runs by hand
  const own = (t: string): boolean =>
    (rec?.last !== undefined && t >= rec.last.start && t <= rec.last.end) || (rec?.running !== undefined && t >= rec.running.start);
  const anchor = later(rec?.last?.start, manual !== undefined && !own(manual) ? manual : undefined);
  let slot: Date | undefined;
  if (anchor !== undefined) slot = nextRunAfter(p.schedule, new Date(anchor), tz);
  else {
    const since = rec?.since ? new Date(rec.since) : now;
    slot = p.schedule.kind === 'every' ? since : nextRunAfter(p.schedule, since, tz);
  }
  const failures = rec?.failures ?? 0;
  if (failures > 0 && (rec?.last?.result === 'failed' || rec?.last?.result === 'interrupted') && anchor === rec.last.start) {
    const retry = new Date(Date.parse(rec.last.end) + Math.min(RETRY_BASE_MS * 2 ** (failures - 1), RETRY_MAX_MS));
    if (slot === undefined || retry < slot) return { at: retry, trigger: 'retry' };
  }
  if (slot === undefined) return undefined;
  const missed = now.getTime() - slot.getTime() > LATE_MS && (lastLook === undefined || slot > lastLook);
  return { at: slot, trigger: missed ? 'catch-up' : 'schedule' };
}

export function plan(i: PlanInput): Plan {
  const now = i.now.getTime();
  const byKey = new Map(i.profiles.map((p) => [p.key, p]));
  const busy = new Set([...i.running].map((k) => byKey.get(k)).filter((p) => p !== undefined).map((p) => repositoryKey(p.repository)));
  let slots = i.maxJobs - i.running.size;
  const start: { key: string; trigger: Trigger; dueAt: Date }[] = [];
  const defer: { key: string; since: string; reason: string; until: Date }[] = [];
  const waiting: { key: string; reason: string }[] = [];
  let wake = Number.POSITIVE_INFINITY;
  const due: { p: PlanProfile; at: Date; trigger: Trigger }[] = [];
  for (const p of i.profiles) {
    if (i.running.has(p.key)) continue;
    const d = dueAt(p, i.records[p.key], i.manual?.[p.key], i.now, i.timeZone, i.lastLook);
    if (!d) continue;
    if (d.at.getTime() > now) wake = Math.min(wake, d.at.getTime());
    else due.push({ p, ...d });
  }
  // the longest overdue first; ties in the file's order
  due.sort((a, b) => a.at.getTime() - b.at.getTime());
  // readings are taken at most once per plan
  let load: number | undefined;
  let power: ReturnType<Readings['power']> | undefined;
  const readings: Readings = { loadPerCore: () => (load ??= i.readings.loadPerCore()), power: () => (power ??= i.readings.power()) };
  for (const { p, at, trigger } of due) {
    const repo = repositoryKey(p.repository);
    let why: Trigger = trigger;
    const reason = deferReason(p.defer, readings);
    if (reason !== undefined) {
      const since = i.records[p.key]?.deferred?.since ?? i.now.toISOString();
      const until = Date.parse(since) + (p.defer?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
      if (now < until) {
        defer.push({ key: p.key, since, reason, until: new Date(until) });
        wake = Math.min(wake, until, now + (i.recheckMs ?? 60_000));
        continue;
      }
      why = 'max-delay';
    }
    if (busy.has(repo)) {
      waiting.push({ key: p.key, reason: 'another job is using its repository' });
      continue;
    }
    if (slots <= 0) {
      waiting.push({ key: p.key, reason: `${i.maxJobs} job${i.maxJobs === 1 ? '' : 's'} already running` });
      continue;
    }
    slots--;
    busy.add(repo);
    start.push({ key: p.key, trigger: why, dueAt: at });
  }
  return { start, defer, waiting, wakeAt: Number.isFinite(wake) ? new Date(wake) : undefined };
}
