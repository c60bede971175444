import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { runJobProcess } from '../../app/job-process.ts';
import { findConfigFile, loadConfig } from '../../app/profile/load.ts';
import { readState } from '../../app/profile/state.ts';
import { UsageError } from '../../errors.ts';
import { systemReadings } from '../../scheduler/conditions.ts';
import { Daemon, type DaemonConfig } from '../../scheduler/daemon.ts';
import { InstanceLock } from '../../scheduler/instance-lock.ts';
import { schedulerPaths } from '../../scheduler/paths.ts';
import { parsePeriod } from '../../scheduler/period.ts';
import { RotatingLog } from '../../scheduler/rotating-log.ts';
import type { Context } from '../context.ts';
import { selfCommand } from '../self.ts';
import { CONFIG_OPTION } from './run.ts';

interface Flags {
  config?: string;
  maxJobs?: string;
  grace?: string;
}

/** The configuration, read again only when the file changed (size, time or inode). */
function configLoader(file: string): () => DaemonConfig {
  let stamp = '';
  let cached: DaemonConfig | undefined;
  return () => {
    const st = statSync(file);
    const s = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (cached && s === stamp) return cached;
    const c = loadConfig(file);
    cached = { file, profiles: [...c.profiles.values()] };
    stamp = s;
    return cached;
  };
}

export function registerDaemon(program: Command, ctx: () => Context, stoppedCleanly: () => void): void {
  program
    .command('daemon')
    .description('run the profiles on their schedules: catch-up after sleep, one job per repository, deferral by load or battery')
    .option(...CONFIG_OPTION)
    .option('--max-jobs <n>', 'jobs at once, each on its own repository (default 2)')
    .option('--grace <time>', 'on SIGTERM/SIGINT, how long running jobs may go on before they are told to stop (default 60s)')
    .action(async (f: Flags) => {
      const c = ctx();
      const maxJobs = f.maxJobs === undefined ? 2 : Number(f.maxJobs);
      if (!Number.isInteger(maxJobs) || maxJobs < 1 || maxJobs > 64) throw new UsageError(`--max-jobs must be a whole number from 1 to 64, got ${JSON.stringify(f.maxJobs)}`);
      const graceMs = f.grace === undefined ? 60_000 : parsePeriod(f.grace, { what: '--grace', max: 86_400_000 });
      const file = resolve(findConfigFile(f.config));
      const load = configLoader(file);
      // a configuration that does not load at start is an error now, not a log line
      load();
      const paths = schedulerPaths();
      const lock = InstanceLock.acquire(paths.pidFile, { config: file });
      try {
        const logFile = new RotatingLog({ dir: paths.logDir });
        const log = (level: 'info' | 'warn' | 'error', message: string): void => {
          logFile.write(level, message);
          if (!c.out.quiet || level === 'error') c.out.warn(`${new Date().toISOString()} ${level} ${message}`);
        };
        log('info', `log: ${logFile.path}; state: ${paths.state}; pid file: ${paths.pidFile}`);
        const daemon = new Daemon({
          load,
          runJob: async (p, configFile, signal) =>
            await runJobProcess({
              command: process.execPath,
              args: [...selfCommand().slice(1), 'run', p.name, '--config', configFile, '--json'],
              signal,
              // the job stops cleanly on SIGTERM; a job that does not within a minute is killed
              killAfterMs: 60_000,
              onStderr: (line) => {
                if (line.trim() !== '') logFile.write('info', `${p.name}: ${line}`);
              },
            }),
          readings: systemReadings,
          statePath: paths.state,
          manualRuns: () => Object.fromEntries(Object.entries(readState().profiles).map(([k, s]) => [k, s.lastRun])),
          log,
          maxJobs,
          graceMs,
        });
        await daemon.run(c.signal);
      } finally {
        lock.release();
      }
      stoppedCleanly();
    });
}
