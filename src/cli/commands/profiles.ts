import type { Command } from 'commander';
import { findConfigFile, loadConfig } from '../../app/profile/load.ts';
import type { Profile } from '../../app/profile/profile.ts';
import { profileKey, type ProfileState, readState } from '../../app/profile/state.ts';
import { formatSchedule, nextDue } from '../../scheduler/schedule.ts';
import type { Context } from '../context.ts';
import { table } from '../render/output.ts';
import { CONFIG_OPTION } from './run.ts';

function when(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function describe(p: Profile, s: ProfileState | undefined, now: Date): Record<string, unknown> {
  const next = p.schedule ? nextDue(p.schedule, { now, lastRun: s?.lastRun ? new Date(s.lastRun) : undefined }) : undefined;
  return {
    name: p.name,
    ...(p.description ? { description: p.description } : {}),
    repository: p.repository,
    paths: p.backup.paths,
    tags: p.backup.tags,
    schedule: p.schedule ? formatSchedule(p.schedule) : null,
    next_run: next ? next.toISOString() : null,
    last_run: s?.lastRun ?? null,
    last_exit_code: s?.lastExitCode ?? null,
    last_snapshot: s?.lastSnapshot ?? null,
    ...(s?.lastError ? { last_error: s.lastError } : {}),
  };
}

/** Lists the profiles of a configuration file, with their schedule, next run and last outcome. */
export function listProfiles(c: Context, configFile: string | undefined): void {
  const file = findConfigFile(configFile);
  const config = loadConfig(file);
  const state = readState(undefined, (m) => c.out.warn(`warning: ${m}`));
  const now = new Date();
  const rows = [...config.profiles.values()].map((p) => describe(p, state.profiles[profileKey(file, p.name)], now));
  if (c.out.json) {
    c.out.data(JSON.stringify({ file, profiles: rows }));
    return;
  }
  const s = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
  c.out.data(`profiles in ${file}:`);
  c.out.data(
    table(
      ['name', 'repository', 'paths', 'schedule', 'next run', 'last run', 'exit'],
      rows.map((r) => [s(r.name), s(r.repository), (r.paths as string[]).join(' ') || '(files-from)', s(r.schedule), when((r.next_run as string | null) ?? undefined), when((r.last_run as string | null) ?? undefined), s(r.last_exit_code)]),
    ),
  );
}

export function registerProfiles(program: Command, ctx: () => Context): void {
  program
    .command('profiles')
    .description('list the profiles of the configuration file: repository, paths, schedule, next and last run')
    .option(...CONFIG_OPTION)
    .action((f: { config?: string }) => listProfiles(ctx(), f.config));
}
