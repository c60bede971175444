import { hostname } from 'node:os';
import { PyBackupError, errnoCode } from '../errors.ts';

/**
 * Lock files (sealed JSON in locks/). Shared locks (backup, restore, reads) coexist; an exclusive lock (repair,
 * forget, key changes) excludes every other lock; a prune lock (`kind: 'prune'`, `exclusive: false`) excludes
 * exclusive and other prune locks but coexists with shared ones (docs/design.md §14e). A lock is refreshed every
 * REFRESH_MS; it is stale when its process is gone (same host: checked at once with kill(pid, 0)) or when it was not
 * refreshed for STALE_MS (other hosts).
 */
export interface LockInfo {
  /** last refresh */
  time: string;
  /** when the locking command took its first lock (kept across refreshes; absent in older locks) */
  started?: string;
  exclusive: boolean;
  /**
   * 'prune': a prune lock (older clients read it as a shared lock, which is what it is to them); 'backup': a shared
   * lock whose holder only adds files and never reads pack data, which prune may sweep beside (§14e)
   */
  kind?: 'prune' | 'backup';
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

export type LockKind = 'shared' | 'backup' | 'exclusive' | 'prune';

export function lockKind(l: LockInfo): LockKind {
  return l.exclusive ? 'exclusive' : l.kind === 'prune' || l.kind === 'backup' ? l.kind : 'shared';
}

/** Whether a lock of kind `mine` (true = exclusive, false = shared) may not be held beside `other`. */
export function conflicts(mine: boolean | LockKind, other: LockInfo): boolean {
  const m: LockKind = mine === true ? 'exclusive' : mine === false ? 'shared' : mine;
  const o = lockKind(other);
  if (m === 'exclusive' || o === 'exclusive') return true;
  return m === 'prune' && o === 'prune';
}
