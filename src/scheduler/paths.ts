/**
 * Where the scheduler keeps its files. State and logs: $XDG_STATE_HOME/pybackup (default ~/.local/state/pybackup);
 * the single-instance pid file: $XDG_RUNTIME_DIR/pybackup (cleared at logout and boot), else the state directory.
 * XDG variables that are not absolute paths are ignored, as the specification says.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

const absolute = (v: string | undefined): string | undefined => (v && v.startsWith('/') ? v : undefined);

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(absolute(env.XDG_STATE_HOME) ?? join(env.HOME || homedir(), '.local', 'state'), 'pybackup');
}

export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const r = absolute(env.XDG_RUNTIME_DIR);
  return r ? join(r, 'pybackup') : stateDir(env);
}

export interface SchedulerPaths {
  /** the daemon's state: per profile last run, deferral, next anchor (daemon-state.ts) */
  readonly state: string;
  readonly pidFile: string;
  readonly logDir: string;
}

export function schedulerPaths(env: NodeJS.ProcessEnv = process.env): SchedulerPaths {
  const dir = stateDir(env);
  return { state: join(dir, 'daemon-state.json'), pidFile: join(runtimeDir(env), 'daemon.pid'), logDir: dir };
}
