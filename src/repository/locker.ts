import { hostname, userInfo } from 'node:os';
import { throwIfAborted } from '../errors.ts';
import { type LockInfo, type LockKind, LockFailedError, REFRESH_MS, conflicts, isStale, lockKind } from './lock.ts';
import type { Repository } from './repository.ts';

type LockRepo = Pick<Repository, 'backend' | 'loadJson' | 'saveFile'>;

export interface HeldLock {
  release(): Promise<void>;
  /** whether `name` is one of this lock's files (a refresh briefly leaves two) */
  owns(name: string): boolean;
}

/**
 * Takes a lock: writes ours, then checks every other lock; on conflict removes ours and fails (so two racing
 * lockers both back off rather than both proceeding). Stale locks are removed on the way. Refreshes periodically.
 */
export async function acquireLock(repo: LockRepo, mode: boolean | LockKind, o: { signal?: AbortSignal; username?: string } = {}): Promise<HeldLock> {
  throwIfAborted(o.signal);
  const kind: LockKind = mode === true ? 'exclusive' : mode === false ? 'shared' : mode;
  const started = new Date().toISOString();
  const info = (): LockInfo => ({
    time: new Date().toISOString(),
    started,
    exclusive: kind === 'exclusive',
    ...(kind === 'prune' || kind === 'backup' ? { kind } : {}),
    hostname: hostname(),
    username: o.username ?? currentUser(),
    pid: process.pid,
  });
  let name = await repo.saveFile('lock', Buffer.from(JSON.stringify(info())));
  const mine = new Set([name]);
  for await (const f of repo.backend.list('lock')) {
    if (f.name === name) continue;
    let other: LockInfo;
    try {
      other = await repo.loadJson<LockInfo>('lock', f.name);
    } catch {
      continue; // vanished or unreadable: another process is replacing it
    }
    if (isStale(other)) {
      await repo.backend.remove({ type: 'lock', name: f.name }).catch(() => {});
      continue;
    }
    if (conflicts(kind, other)) {
      await repo.backend.remove({ type: 'lock', name });
      const what = { exclusive: 'an exclusive', prune: 'a prune', shared: 'a', backup: 'a' }[lockKind(other)];
      throw new LockFailedError(`repository is already locked by ${what} lock: PID ${other.pid} on ${other.hostname} by ${other.username}, since ${other.time}`);
    }
  }
  let refreshing = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = refreshing.then(async () => {
      const old = name;
      name = await repo.saveFile('lock', Buffer.from(JSON.stringify(info())));
      mine.add(name);
      await repo.backend.remove({ type: 'lock', name: old });
      mine.delete(old);
    }).catch(() => {});
  }, REFRESH_MS);
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await refreshing;
      await repo.backend.remove({ type: 'lock', name });
    },
    owns: (n) => mine.has(n),
  };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
