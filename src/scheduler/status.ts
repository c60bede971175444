/**
 * `pybackup status`: per profile the last run (by the daemon, or by hand with `pybackup run`), whether it is
 * running or deferred now, and the next run; and whether the daemon runs. Pure: the CLI reads the files.
 */
import type { ProfileState } from '../app/profile/state.ts';
import type { DaemonState, RunResultKind, Trigger } from './daemon-state.ts';
import type { InstanceInfo } from './instance-lock.ts';
import { DEFAULT_MAX_DELAY_MS, dueAt, type PlanProfile } from './planner.ts';
import { formatSchedule, type Schedule } from './schedule.ts';

export interface StatusProfile {
  readonly key: string;
  readonly name: string;
  readonly schedule?: Schedule | undefined;
  readonly repository: string;
  readonly defer?: PlanProfile['defer'];
}

export interface LastRunStatus {
  readonly start: string;
  readonly end?: string | undefined;
  readonly durationMs?: number | undefined;
  readonly result: RunResultKind;
  readonly exitCode: number | null;
  readonly error?: string | undefined;
  readonly bytesAdded?: number | undefined;
  readonly snapshotId?: string | undefined;
  /** what started it: a daemon trigger, or `manual` (pybackup run) */
  readonly trigger: Trigger | 'manual';
}

export interface ProfileStatus {
  readonly name: string;
  readonly schedule: string | null;
  readonly repository: string;
  readonly last?: LastRunStatus | undefined;
  readonly running?: { readonly start: string; readonly trigger: Trigger } | undefined;
  readonly deferred?: { readonly since: string; readonly reason: string; readonly until: string } | undefined;
  /** the next due time (ISO; in the past when overdue), or null: no schedule */
  readonly nextRun: string | null;
  readonly overdue: boolean;
  readonly failures: number;
}

export interface DaemonStatus {
  readonly running: boolean;
  readonly pid?: number | undefined;
  readonly started?: string | undefined;
  readonly config?: string | undefined;
}

export interface StatusInput {
  readonly profiles: readonly StatusProfile[];
  readonly state: DaemonState;
  /** the profile state (runs by hand), by the same keys */
  readonly manual: Readonly<Record<string, ProfileState | undefined>>;
  readonly instance: (InstanceInfo & { readonly alive: boolean }) | undefined;
  readonly now: Date;
  readonly timeZone?: string;
}

function resultOfExit(code: number | undefined): RunResultKind {
  return code === 0 ? 'ok' : code === 3 ? 'warning' : code === 130 ? 'interrupted' : 'failed';
}

export function buildStatus(i: StatusInput): { daemon: DaemonStatus; profiles: ProfileStatus[] } {
  const alive = i.instance?.alive === true;
  const daemon: DaemonStatus = alive ? { running: true, pid: i.instance?.pid, started: i.instance?.started, config: i.instance?.config } : { running: false };
  const profiles = i.profiles.map((p): ProfileStatus => {
    const rec = i.state.profiles[p.key];
    const m = i.manual[p.key];
    let last: LastRunStatus | undefined;
    if (rec?.last) {
      const l = rec.last;
      last = { ...l, durationMs: Date.parse(l.end) - Date.parse(l.start) };
    }
    // a run by hand that is newer than the daemon's (the daemon's own runs are recorded there too: skip those)
    if (m?.lastRun && (!rec?.last || (Date.parse(m.lastRun) > Date.parse(rec.last.end) && m.lastRun !== rec.last.start))) {
      last = {
        start: m.lastRun,
        ...(m.lastDurationMs !== undefined ? { durationMs: m.lastDurationMs, end: new Date(Date.parse(m.lastRun) + m.lastDurationMs).toISOString() } : {}),
        result: resultOfExit(m.lastExitCode),
        exitCode: m.lastExitCode ?? null,
        ...(m.lastError ? { error: m.lastError } : {}),
        ...(m.lastSnapshot ? { snapshotId: m.lastSnapshot } : {}),
        trigger: 'manual',
      };
    }
    const running = alive && rec?.running ? rec.running : undefined;
    const deferred =
      alive && rec?.deferred && !running
        ? { ...rec.deferred, until: new Date(Date.parse(rec.deferred.since) + (p.defer?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS)).toISOString() }
        : undefined;
    const due = running ? undefined : dueAt(p, rec, m?.lastRun, i.now, i.timeZone);
    return {
      name: p.name,
      schedule: p.schedule ? formatSchedule(p.schedule) : null,
      repository: p.repository,
      ...(last ? { last } : {}),
      ...(running ? { running } : {}),
      ...(deferred ? { deferred } : {}),
      nextRun: due ? due.at.toISOString() : null,
      overdue: due !== undefined && due.at.getTime() < i.now.getTime(),
      failures: rec?.failures ?? 0,
    };
  });
  return { daemon, profiles };
}
