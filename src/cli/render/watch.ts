import { formatPeriod } from '../../scheduler/period.ts';
import type { WatchEvent } from '../../scheduler/watch/events.ts';
import { formatBytes, type Output } from './output.ts';

const clock = (): string => {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

/**
 * `pybackup watch` output: one line per backup and per source lost or back, a status line on a TTY while changes
 * wait; with --json, NDJSON `watch_*` messages (the backups' own `summary` lines come too).
 */
export function watchRenderer(out: Output, profile: string): (e: WatchEvent) => void {
  return (e) => {
    if (out.json) {
      const { type, ...rest } = e;
      const fields = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k.replaceAll(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v ?? null]));
      out.line({ message_type: `watch_${type.replaceAll('-', '_')}`, profile, time: new Date().toISOString(), ...fields });
      return;
    }
    const at = `${clock()} [${profile}]`;
    switch (e.type) {
      case 'watching':
        out.info(`${at} watching ${e.roots.join(', ')} (quiet period ${formatPeriod(e.quietMs)}, full rescan every ${formatPeriod(e.rescanMs)}; Ctrl-C stops)`);
        return;
      case 'pending':
        out.status(`${at} ${e.full ? 'changes' : `changes in ${e.dirs} director${e.dirs === 1 ? 'y' : 'ies'}`}: backing up after ${formatPeriod(e.backupInMs)} of quiet`);
        return;
      case 'backup-start':
        out.status(`${at} backing up (${e.kind === 'full' ? `full: ${e.reason}` : e.reason})…`);
        return;
      case 'backup-done': {
        const took = `${(e.durationMs / 1000).toFixed(1)} s`;
        const errs = e.errors ? `, ${e.errors} unreadable` : '';
        if (e.snapshotId) out.info(`${at} snapshot ${e.snapshotId.slice(0, 8)} saved (${e.kind}, ${formatBytes(e.dataAdded)} added, ${took}${errs})`);
        else out.info(`${at} nothing changed (${e.kind}, ${took}${errs}): no snapshot`);
        return;
      }
      case 'backup-failed':
        out.warn(`${at} backup failed: ${e.message}; trying again in ${formatPeriod(e.retryInMs)}`);
        return;
      case 'root-lost':
        out.warn(`${at} ${e.root} is gone: backups wait until it is back`);
        return;
      case 'root-back':
        out.info(`${at} ${e.root} is back`);
        return;
      case 'watch-error':
        out.warn(`${at} cannot watch ${e.root} for changes: ${e.message}`);
        return;
      case 'stopped':
        out.clearStatus();
        out.info(`${at} stopped watching`);
    }
  };
}
