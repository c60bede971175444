/**
 * The profile state file (docs/design.md §18): small JSON in the cache directory, holding what the cadences need —
 * when each repository was last pruned and checked, which `rotate/T` part was read last — and the outcome of each
 * profile's last run (for `pybackup profiles` and the scheduler). Like the catalog it is a cache: losing it only
 * means one prune or check runs earlier than it would have.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../../repository/catalog.ts';

export interface RepositoryState {
  lastPrune?: string;
  lastCheck?: string;
  /** the read-data part checked last by `rotate/T` */
  checkPart?: { n: number; t: number };
  /** the outcome of the last `check` of any kind (a command or a profile step), for overviews */
  lastCheckRun?: { time: string; errors: number; readData: boolean };
}

export interface ProfileState {
  lastRun?: string;
  lastSuccess?: string;
  lastExitCode?: number;
  lastSnapshot?: string;
  lastError?: string;
  lastDurationMs?: number;
}

export interface StateData {
  version: 1;
  /** by repository id */
  repositories: Record<string, RepositoryState>;
  /** by profileKey() */
  profiles: Record<string, ProfileState>;
}

export function statePath(): string {
  return join(cacheRoot(), 'profile-state.json');
}

/** A profile is identified by its name and its configuration file. */
export function profileKey(configFile: string, name: string): string {
  return `${name}@${configFile}`;
}

const empty = (): StateData => ({ version: 1, repositories: {}, profiles: {} });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The state; a missing file is an empty state, an unreadable or garbled one too (reported through `warn`). */
export function readState(path = statePath(), warn?: (message: string) => void): StateData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn?.(`cannot read the profile state ${path}: ${(e as Error).message}; starting afresh`);
    return empty();
  }
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && v.version === 1 && isRecord(v.repositories) && isRecord(v.profiles)) return v as unknown as StateData;
  } catch {
    // fall through
  }
  warn?.(`the profile state ${path} is garbled; starting afresh`);
  return empty();
}

/** Read, change, write atomically (temp file + rename; mode 0600). */
export function updateState(change: (s: StateData) => void, path = statePath(), warn?: (message: string) => void): StateData {
  const s = readState(path, warn);
  change(s);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return s;
}

/** Whether something with the cadence `everyMs`, last done at `last` (ISO), is due at `now`. */
export function isDue(last: string | undefined, everyMs: number, now: number): boolean {
  if (last === undefined) return true;
  const t = Date.parse(last);
  return !Number.isFinite(t) || t > now || now - t >= everyMs;
}

/** The next part of a `rotate/T` check: 1 after T (or a changed T), else the part after the last one. */
export function nextPart(last: RepositoryState['checkPart'], t: number): number {
  if (!last || last.t !== t || last.n >= t || last.n < 1) return 1;
  return last.n + 1;
}
