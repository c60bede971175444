import { hostname } from 'node:os';
import { PyBackupError, errnoCode } from '../errors.ts';

/**
 * Lock files (sealed JSON in locks/). Shared locks (backup, restore, reads) coexist; an exclusive lock (prune,
 * repair) excludes every other lock. A lock is refreshed every REFRESH_MS; it is stale when its process is gone
 * (same host: checked at once with kill(pid, 0)) or when it was not refreshed for STALE_MS (other hosts).
 */
export interface LockInfo {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
}

export const REFRESH_MS = 5 * 60_000;
export const STALE_MS = 30 * 60_000;

export class LockFailedError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_FAILED', message, options);
  }
}

export function isStale(l: LockInfo, now = Date.now()): boolean {
  const t = Date.parse(l.time);
  if (!Number.isFinite(t) || now - t > STALE_MS) return true;
  if (l.hostname === hostname()) {
    if (l.pid === process.pid) return false;
    try {
      process.kill(l.pid, 0);
      return false;
    } catch (e) {
      return errnoCode(e) === 'ESRCH';
    }
  }
  return false;
}

export function conflicts(mine: boolean, other: LockInfo): boolean {
  return mine || other.exclusive;
}
