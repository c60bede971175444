/**
 * One daemon per user: a pid file created exclusively (O_EXCL). A file left by a daemon that died is stale when its
 * pid is gone, or when the pid now belongs to another process (its start time, from /proc, differs from the one
 * recorded): such a file is replaced. The file also tells `pybackup status` whether a daemon runs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, PyBackupError } from '../errors.ts';

export interface InstanceInfo {
  readonly pid: number;
  /** ISO time the daemon started */
  readonly started: string;
  /** the process start time in clock ticks since boot (/proc/PID/stat field 22), where known */
  readonly startTicks?: string;
  readonly config?: string;
}

/** Another daemon holds the pid file (exit code 11, as a repository lock that cannot be taken). */
export class DaemonRunningError extends PyBackupError {
  readonly holder: InstanceInfo;
  constructor(path: string, holder: InstanceInfo) {
    super('LOCK_FAILED', `another pybackup daemon is running (pid ${holder.pid}, since ${holder.started}; pid file ${path})`);
    this.holder = holder;
  }
}

/** The start time of process `pid` in clock ticks since boot, or undefined (no /proc, or no such process). */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may itself hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `info` still runs (same pid, same start time when both are known). */
export function isAlive(info: InstanceInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if (errnoCode(e) !== 'EPERM') return false;
  }
  if (info.startTicks === undefined) return true;
  const now = processStartTicks(info.pid);
  return now === undefined || now === info.startTicks;
}

function parse(text: string): InstanceInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<InstanceInfo>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.started === 'string') return v as InstanceInfo;
  } catch {
    // garbled: stale
  }
  return undefined;
}

/** The daemon recorded in the pid file, and whether it still runs; undefined when there is no readable file. */
export function readInstance(path: string): (InstanceInfo & { readonly alive: boolean }) | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const info = parse(text);
  return info ? { ...info, alive: isAlive(info) } : undefined;
}

export class InstanceLock {
  readonly path: string;
  readonly info: InstanceInfo;
  #held = true;

  private constructor(path: string, info: InstanceInfo) {
    this.path = path;
    this.info = info;
  }

  /** Takes the pid file for this process; throws DaemonRunningError when a live daemon holds it. */
  static acquire(path: string, o: { config?: string; now?: Date; alive?: (i: InstanceInfo) => boolean } = {}): InstanceLock {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const ticks = processStartTicks(process.pid);
    const info: InstanceInfo = {
      pid: process.pid,
      started: (o.now ?? new Date()).toISOString(),
      ...(ticks !== undefined ? { startTicks: ticks } : {}),
      ...(o.config !== undefined ? { config: o.config } : {}),
    };
    const alive = o.alive ?? isAlive;
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch (re) {
          if (errnoCode(re) === 'ENOENT') continue;
          throw re;
        }
        const holder = parse(text);
        // a file being written this very moment reads empty: give its writer a chance before calling it stale
        if (holder === undefined && text === '' && attempt < 2) continue;
        if (holder && holder.pid !== process.pid && alive(holder)) throw new DaemonRunningError(path, holder);
        rmSync(path, { force: true });
        continue;
      }
      try {
        writeSync(fd, `${JSON.stringify(info)}\n`);
      } finally {
        closeSync(fd);
      }
      return new InstanceLock(path, info);
    }
    throw new PyBackupError('LOCK_FAILED', `cannot take the daemon pid file ${path}: it keeps changing`);
  }

  /** Removes the pid file if it is still this process's. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (parse(readFileSync(this.path, 'utf8'))?.pid === this.info.pid) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
