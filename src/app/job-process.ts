/**
 * One scheduled job as a child process: `pybackup run PROFILE --config FILE --json`, started with this process's own
 * Node binary and flags, so a job that crashes, leaks or hangs cannot take the daemon down. Its NDJSON output gives
 * the outcome (`summary`: bytes added, snapshot; `profile_summary`: exit code, error; `exit_error`: the error of a
 * run that failed before it began); its stderr lines go to the daemon's log.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RunResultKind } from '../scheduler/daemon-state.ts';

export interface JobProcessOptions {
  /** the program and its leading arguments (node, its flags, the CLI entry) */
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** aborting sends SIGTERM (the child stops cleanly); SIGKILL follows after `killAfterMs` (default 60 s) */
  readonly signal?: AbortSignal;
  readonly killAfterMs?: number;
  /** each line the child writes to stderr */
  readonly onStderr?: (line: string) => void;
}

export interface JobProcessOutcome {
  readonly result: RunResultKind;
  readonly exitCode: number | null;
  readonly signal?: string | undefined;
  readonly error?: string | undefined;
  readonly bytesAdded?: number | undefined;
  readonly snapshotId?: string | undefined;
}

/** What the NDJSON lines of a run say (unknown lines and non-JSON lines are skipped). */
export function parseRunOutput(lines: Iterable<string>): { bytesAdded?: number; snapshotId?: string; error?: string; exitCode?: number } {
  const out: { bytesAdded?: number; snapshotId?: string; error?: string; exitCode?: number } = {};
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
    const num = (k: string): number | undefined => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : undefined);
    switch (m.message_type) {
      case 'summary': {
        const added = num('data_added');
        if (added !== undefined) out.bytesAdded = (out.bytesAdded ?? 0) + added;
        if (str('snapshot_id')) out.snapshotId = str('snapshot_id') as string;
        break;
      }
      case 'profile_summary':
        if (str('snapshot_id')) out.snapshotId = str('snapshot_id') as string;
        if (str('error')) out.error = `${str('failed_step') ? `${str('failed_step')}: ` : ''}${str('error')}`;
        if (num('exit_code') !== undefined) out.exitCode = num('exit_code') as number;
        break;
      case 'exit_error':
        if (str('message')) out.error ??= str('message') as string;
        break;
    }
  }
  return out;
}

/** ok: 0; warning: 3 (a snapshot, some files unreadable); interrupted: 130 or a signal; anything else failed. */
export function resultOf(exitCode: number | null, signal: string | null): RunResultKind {
  if (exitCode === 0) return 'ok';
  if (exitCode === 3) return 'warning';
  if (exitCode === 130 || (exitCode === null && signal !== null)) return 'interrupted';
  return 'failed';
}

/** Runs the child to its end; never throws for the child's own failures (they are the outcome). */
export async function runJobProcess(o: JobProcessOptions): Promise<JobProcessOutcome> {
  // its own process group: a Ctrl-C at the daemon's terminal reaches the daemon, which decides when the job stops
  const child = spawn(o.command, [...o.args], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stdout: string[] = [];
  let lastErr: string | undefined;
  const outLines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  outLines.on('line', (l) => {
    // progress lines are many and say nothing about the outcome
    if (!l.includes('"message_type":"status"')) stdout.push(l);
  });
  const errLines = createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY });
  errLines.on('line', (l) => {
    if (l.trim() !== '') lastErr = l.trim();
    o.onStderr?.(l);
  });
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 60_000);
  };
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  const closed = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  o.signal?.removeEventListener('abort', onAbort);
  clearTimeout(killTimer);
  if (closed.spawnError) return { result: 'failed', exitCode: null, error: `cannot start ${o.command}: ${closed.spawnError.message}` };
  const parsed = parseRunOutput(stdout);
  const result = resultOf(closed.code, closed.signal);
  const error = result === 'ok' ? undefined : (parsed.error ?? (closed.signal ? `killed by ${closed.signal}` : lastErr) ?? `exit code ${closed.code}`);
  return {
    result,
    exitCode: closed.code,
    ...(closed.signal ? { signal: closed.signal } : {}),
    ...(error !== undefined ? { error: error.replace(/^pybackup: /, '') } : {}),
    ...(parsed.bytesAdded !== undefined ? { bytesAdded: parsed.bytesAdded } : {}),
    ...(parsed.snapshotId !== undefined ? { snapshotId: parsed.snapshotId } : {}),
  };
}
