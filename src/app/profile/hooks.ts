/**
 * Running a profile's hook and snapshot commands: each through `/bin/sh -c`, one after the other, in its own
 * process group (so a timeout or Ctrl-C ends the command and whatever it started), with PYBACKUP_* variables
 * describing the run. Passwords are not passed on: PYBACKUP_PASSWORD and the profile's password-env variable are
 * removed from the hooks' environment.
 */
import { spawn } from 'node:child_process';
import { AbortedError, PyBackupError } from '../../errors.ts';

export class HookFailedError extends PyBackupError {
  readonly hook: string;
  constructor(hook: string, message: string) {
    super('HOOK_FAILED', message);
    this.hook = hook;
  }
}

/** Every variable a hook may see; those not known at a stage are absent. */
export const HOOK_VARIABLES = [
  'PYBACKUP_PROFILE',
  'PYBACKUP_CONFIG',
  'PYBACKUP_REPOSITORY',
  'PYBACKUP_HOOK',
  'PYBACKUP_PATHS',
  'PYBACKUP_TAGS',
  'PYBACKUP_HOST',
  'PYBACKUP_DRY_RUN',
  'PYBACKUP_SNAPSHOT_MOUNT',
  'PYBACKUP_SNAPSHOT_ORIGIN',
  'PYBACKUP_SNAPSHOT_ID',
  'PYBACKUP_FILES_NEW',
  'PYBACKUP_FILES_CHANGED',
  'PYBACKUP_FILES_UNMODIFIED',
  'PYBACKUP_DIRS_NEW',
  'PYBACKUP_DIRS_CHANGED',
  'PYBACKUP_DIRS_UNMODIFIED',
  'PYBACKUP_DATA_ADDED',
  'PYBACKUP_DATA_ADDED_PACKED',
  'PYBACKUP_TOTAL_FILES',
  'PYBACKUP_TOTAL_BYTES',
  'PYBACKUP_BACKUP_ERRORS',
  'PYBACKUP_SNAPSHOTS_REMOVED',
  'PYBACKUP_PRUNE',
  'PYBACKUP_CHECK',
  'PYBACKUP_STARTED',
  'PYBACKUP_DURATION_MS',
  'PYBACKUP_EXIT_CODE',
  'PYBACKUP_ERROR',
  'PYBACKUP_FAILED_STEP',
] as const;

export type HookVariable = (typeof HOOK_VARIABLES)[number];
export type HookVars = Partial<Record<HookVariable, string>>;

/** A repository location without a password in it (`rest:https://user:secret@host/` -> `user:***@`). */
export function redactLocation(location: string): string {
  return location.replace(/^([a-z0-9]+:(?:[a-z0-9+.-]+:)?\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** The hook environment: the process's, minus passwords and stale PYBACKUP_* run variables, plus `vars`. */
export function hookEnvironment(base: NodeJS.ProcessEnv, vars: HookVars, hide: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of ['PYBACKUP_PASSWORD', 'PYBACKUP_NEW_PASSWORD', ...hide, ...HOOK_VARIABLES]) delete env[k];
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

export interface RunCommandOptions {
  readonly env: NodeJS.ProcessEnv;
  /** what the command is, for messages: "before hook", "snapshot create command" */
  readonly what: string;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** where the command's standard output goes: ours, or our standard error (keeps --json output clean) */
  readonly stdout: 'inherit' | 'stderr';
  /** grace period between SIGTERM and SIGKILL */
  readonly killAfterMs?: number;
}

/** Runs one shell command; resolves when it exits 0, throws HookFailedError (or AbortedError) otherwise. */
export async function runCommand(command: string, o: RunCommandOptions): Promise<void> {
  if (o.signal?.aborted) throw new AbortedError();
  const child = spawn('/bin/sh', ['-c', command], { env: o.env, stdio: ['ignore', o.stdout === 'inherit' ? 'inherit' : 2, 'inherit'], detached: true });
  let why: 'timeout' | 'aborted' | undefined;
  let killer: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'aborted'): void => {
    why ??= reason;
    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    killer ??= setTimeout(() => kill('SIGKILL'), o.killAfterMs ?? 5000);
  };
  const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), o.timeoutMs);
  const onAbort = (): void => stop('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    }).catch((e: unknown) => {
      throw new HookFailedError(o.what, `${o.what} ${JSON.stringify(command)} could not be started: ${(e as Error).message}`);
    });
    if (why === 'aborted') throw new AbortedError();
    if (why === 'timeout') throw new HookFailedError(o.what, `${o.what} ${JSON.stringify(command)} timed out after ${Math.round((o.timeoutMs ?? 0) / 100) / 10} s and was stopped`);
    if (code !== 0) throw new HookFailedError(o.what, `${o.what} ${JSON.stringify(command)} failed: ${signal ? `killed by ${signal}` : `exit status ${code}`}`);
  } finally {
    if (timer) clearTimeout(timer);
    if (killer) clearTimeout(killer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs the commands in order; the first failure stops the rest, unless `keepGoing` (cleanup: every command runs,
 * and the first failure is thrown at the end).
 */
export async function runCommands(commands: readonly string[], o: RunCommandOptions & { onStart?: (command: string) => void; keepGoing?: boolean }): Promise<void> {
  let first: unknown;
  for (const c of commands) {
    o.onStart?.(c);
    try {
      await runCommand(c, o);
    } catch (e) {
      if (!o.keepGoing || e instanceof AbortedError) throw e;
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
