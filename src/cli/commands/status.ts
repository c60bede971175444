import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { findConfigFile, loadConfig } from '../../app/profile/load.ts';
import { profileKey, readState } from '../../app/profile/state.ts';
import { readDaemonState } from '../../scheduler/daemon-state.ts';
import { readInstance } from '../../scheduler/instance-lock.ts';
import { schedulerPaths } from '../../scheduler/paths.ts';
import { buildStatus } from '../../scheduler/status.ts';
import type { Context } from '../context.ts';
import { statusJson, statusText } from '../render/status.ts';
import { CONFIG_OPTION } from './run.ts';

export function registerStatus(program: Command, ctx: () => Context): void {
  program
    .command('status')
    .description('the scheduler\'s view of each profile: last run (result, duration, bytes added), running or deferred now, next run')
    .option(...CONFIG_OPTION)
    .action((f: { config?: string }) => {
      const c = ctx();
      const file = resolve(findConfigFile(f.config));
      const config = loadConfig(file);
      const paths = schedulerPaths();
      const warn = (m: string): void => c.out.warn(`warning: ${m}`);
      const manual = readState(undefined, warn).profiles;
      const profiles = [...config.profiles.values()].map((p) => ({ key: profileKey(file, p.name), name: p.name, schedule: p.schedule, repository: p.repository, defer: p.defer }));
      const now = new Date();
      const s = buildStatus({ profiles, state: readDaemonState(paths.state, warn), manual, instance: readInstance(paths.pidFile), now });
      const files = { logFile: join(paths.logDir, 'daemon.log'), configFile: file };
      if (c.out.json) {
        c.out.data(JSON.stringify(statusJson(s, files)));
        return;
      }
      for (const line of statusText(s, now, files)) c.out.data(line);
    });
}
