import type { DaemonStatus, ProfileStatus } from '../../scheduler/status.ts';
import { formatBytes, formatDuration, table } from './output.ts';

/** Local date and time to the minute ("2025-03-01 02:00"); the day is left out when it is today. */
export function localTime(iso: string, now: Date): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return day === today ? time : `${day} ${time}`;
}

function resultText(p: ProfileStatus): string {
  const l = p.last;
  if (!l) return '-';
  const how = l.trigger === 'manual' ? ' (by hand)' : l.trigger === 'catch-up' ? ' (catch-up)' : l.trigger === 'max-delay' ? ' (after max delay)' : l.trigger === 'retry' ? ' (retry)' : '';
  switch (l.result) {
    case 'ok':
      return `ok${how}`;
    case 'warning':
      return `ok, unreadable files (exit 3)${how}`;
    case 'interrupted':
      return `interrupted${how}`;
    case 'failed':
      return `failed (exit ${l.exitCode ?? '-'})${how}`;
  }
}

function nextText(p: ProfileStatus, now: Date, daemon: DaemonStatus): string {
  if (p.running) return `running since ${localTime(p.running.start, now)}`;
  if (p.deferred) return `deferred: ${p.deferred.reason} (since ${localTime(p.deferred.since, now)}; at the latest ${localTime(p.deferred.until, now)})`;
  if (p.nextRun === null) return p.schedule === null ? 'not scheduled' : 'never';
  if (p.overdue) return daemon.running ? 'now' : `overdue since ${localTime(p.nextRun, now)}`;
  return localTime(p.nextRun, now);
}

/** The text of `pybackup status`: the daemon line, a table, then the errors of failed runs. */
export function statusText(s: { daemon: DaemonStatus; profiles: readonly ProfileStatus[] }, now: Date, o: { logFile: string; configFile: string }): string[] {
  const d = s.daemon;
  const lines = [
    d.running
      ? `daemon: running (pid ${d.pid}, since ${localTime(d.started ?? now.toISOString(), now)}${d.config && d.config !== o.configFile ? `, configuration ${d.config}` : ''}); log: ${o.logFile}`
      : 'daemon: not running (start it with `pybackup daemon`, or use timers: `pybackup schedule install`)',
  ];
  if (s.profiles.length === 0) return [...lines, `no profiles in ${o.configFile}`];
  lines.push(
    table(
      ['profile', 'schedule', 'last run', 'took', 'result', 'added', 'next run'],
      s.profiles.map((p) => [
        p.name,
        p.schedule ?? '-',
        p.last ? localTime(p.last.start, now) : '-',
        p.last?.durationMs !== undefined ? formatDuration(p.last.durationMs) : '-',
        resultText(p),
        p.last?.bytesAdded !== undefined ? formatBytes(p.last.bytesAdded) : '-',
        nextText(p, now, d),
      ]),
    ),
  );
  for (const p of s.profiles) {
    if (p.last?.error && p.last.result !== 'ok') lines.push(`${p.name}: ${p.last.error}${p.failures > 1 ? ` (${p.failures} failures in a row)` : ''}`);
  }
  return lines;
}

/** The JSON document of `pybackup status --json`. */
export function statusJson(s: { daemon: DaemonStatus; profiles: readonly ProfileStatus[] }, o: { logFile: string; configFile: string }): Record<string, unknown> {
  return {
    config: o.configFile,
    daemon: { running: s.daemon.running, ...(s.daemon.running ? { pid: s.daemon.pid, started: s.daemon.started, config: s.daemon.config ?? null } : {}), log: o.logFile },
    profiles: s.profiles.map((p) => ({
      name: p.name,
      schedule: p.schedule,
      repository: p.repository,
      last_run: p.last
        ? {
            start: p.last.start,
            end: p.last.end ?? null,
            duration_ms: p.last.durationMs ?? null,
            result: p.last.result,
            exit_code: p.last.exitCode,
            error: p.last.error ?? null,
            bytes_added: p.last.bytesAdded ?? null,
            snapshot_id: p.last.snapshotId ?? null,
            trigger: p.last.trigger,
          }
        : null,
      running: p.running ? { start: p.running.start, trigger: p.running.trigger } : null,
      deferred: p.deferred ? { since: p.deferred.since, reason: p.deferred.reason, until: p.deferred.until } : null,
      next_run: p.nextRun,
      overdue: p.overdue,
      consecutive_failures: p.failures,
    })),
  };
}
