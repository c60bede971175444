/**
 * The daemon's state file (docs/design.md §19): $XDG_STATE_HOME/pybackup/daemon-state.json, JSON, written
 * atomically (temp file + rename, mode 0600). Per profile (keyed `NAME@CONFIG-FILE`, as the profile state): when it
 * was first seen, its last scheduled run (start = the anchor of the next slot, end, result, exit code, error, bytes
 * added, snapshot), consecutive failures, a run in progress, and a deferral in progress. Losing the file costs at
 * most one catch-up run or one missed slot.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type RunResultKind = 'ok' | 'warning' | 'failed' | 'interrupted';
export type Trigger = 'schedule' | 'catch-up' | 'retry' | 'max-delay';

export interface LastRun {
  /** ISO times */
  readonly start: string;
  readonly end: string;
  readonly result: RunResultKind;
  readonly exitCode: number | null;
  readonly error?: string;
  readonly bytesAdded?: number;
  readonly snapshotId?: string;
  readonly trigger: Trigger;
}

export interface ProfileRecord {
  /** when the daemon first saw the profile: a calendar schedule's first slot is the first one after this */
  since?: string;
  last?: LastRun;
  /** consecutive failed runs (retry backoff) */
  failures?: number;
  running?: { readonly start: string; readonly trigger: Trigger; readonly pid?: number };
  deferred?: { readonly since: string; readonly reason: string };
}

export interface DaemonState {
  version: 1;
  profiles: Record<string, ProfileRecord>;
}

export const emptyState = (): DaemonState => ({ version: 1, profiles: {} });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The state; missing is empty, garbled is empty too (reported through `warn`). */
export function readDaemonState(path: string, warn?: (message: string) => void): DaemonState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn?.(`cannot read the daemon state ${path}: ${(e as Error).message}; starting afresh`);
    return emptyState();
  }
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && v.version === 1 && isRecord(v.profiles)) return v as unknown as DaemonState;
  } catch {
    // fall through
  }
  warn?.(`the daemon state ${path} is garbled; starting afresh`);
  return emptyState();
}

export function writeDaemonState(path: string, s: DaemonState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
