import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { findConfigFile, loadConfig, profileByName } from '../../app/profile/load.ts';
import { InvalidInputError, UsageError } from '../../errors.ts';
import { cronBlock, withBlock, withoutBlock } from '../../scheduler/cron-lines.ts';
import { applyUnitPlan, planSystemdInstall, planSystemdRemove, systemdUserDir, type UnitPlan } from '../../scheduler/install.ts';
import type { Schedule } from '../../scheduler/schedule.ts';
import type { Context } from '../context.ts';
import { launcherCommand } from '../self.ts';
import { CONFIG_OPTION } from './run.ts';

interface Flags {
  config?: string;
  systemd?: boolean;
  cron?: boolean;
  dryRun?: boolean;
  enable?: boolean;
  disable?: boolean;
}

const kindOf = (f: Flags): 'systemd' | 'cron' => {
  if (f.systemd && f.cron) throw new UsageError('--systemd and --cron are mutually exclusive');
  return f.cron ? 'cron' : 'systemd';
};

/** `systemctl --user ...`, or the error it printed. */
function systemctl(args: readonly string[]): void {
  const r = spawnSync('systemctl', ['--user', ...args], { encoding: 'utf8' });
  if (r.error) throw new InvalidInputError(`cannot run systemctl: ${r.error.message}`);
  if (r.status !== 0) throw new InvalidInputError(`systemctl --user ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`);
}

function crontab(args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('crontab', [...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (r.error) throw new InvalidInputError(`cannot run crontab (is cron installed?): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function currentCrontab(): string {
  const r = crontab(['-l']);
  if (r.status === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return '';
  throw new InvalidInputError(`crontab -l failed: ${r.stderr.trim() || `exit ${r.status}`}`);
}

function installCrontab(text: string): void {
  const r = crontab(['-'], text);
  if (r.status !== 0) throw new InvalidInputError(`crontab - failed: ${r.stderr.trim() || `exit ${r.status}`}`);
}

/** What was written and removed, and what was run or is left to run. */
function reportUnits(c: Context, plan: UnitPlan, o: { dryRun: boolean; ran: boolean }): void {
  const verb = o.dryRun ? 'would ' : '';
  for (const f of plan.write) {
    c.out.info(`${verb}write ${f.path}${o.dryRun ? ':' : ''}`);
    if (o.dryRun) for (const l of f.content.trimEnd().split('\n')) c.out.info(`    ${l}`);
  }
  for (const f of plan.remove) c.out.info(`${verb}remove ${f}`);
  if (plan.write.length + plan.remove.length === 0) return;
  if (o.ran && !o.dryRun) {
    const ran = [...(plan.disable.length ? [`disable --now ${plan.disable.join(' ')}`] : []), 'daemon-reload', ...(plan.enable.length ? [`enable --now ${plan.enable.join(' ')}`] : [])];
    c.out.info(`ran: ${ran.map((r) => `systemctl --user ${r}`).join(' && ')}`);
    return;
  }
  // the enablement links of removed timers are gone with them: stopping and a reload finish the job
  const todo = [...(plan.disable.length ? [`stop ${plan.disable.join(' ')}`] : []), 'daemon-reload', ...(plan.enable.length ? [`enable --now ${plan.enable.join(' ')}`] : [])];
  c.out.info(`${o.dryRun ? 'then' : 'now'} run: ${todo.map((r) => `systemctl --user ${r}`).join(' && ')}${o.dryRun ? '' : `  (or use ${plan.write.length ? '--enable' : '--disable'})`}`);
}

function install(c: Context, names: readonly string[], f: Flags): void {
  const file = resolve(findConfigFile(f.config));
  const config = loadConfig(file);
  const chosen = names.length > 0 ? [...new Set(names)].map((n) => profileByName(config, n)) : [...config.profiles.values()];
  const scheduled: { name: string; schedule: Schedule }[] = [];
  for (const p of chosen) {
    if (p.schedule) scheduled.push({ name: p.name, schedule: p.schedule });
    else if (names.length > 0) throw new UsageError(`profile ${p.name} has no schedule: set "schedule" in ${file}`);
    else c.out.info(`profile ${p.name} has no schedule: skipped`);
  }
  if (scheduled.length === 0) throw new UsageError(`no profile in ${file} has a schedule`);
  const command = launcherCommand();
  if (kindOf(f) === 'cron') {
    if (f.enable) throw new UsageError('--enable is for --systemd (cron reads its table by itself)');
    const block = cronBlock(scheduled.map((p) => ({ profile: p.name, schedule: p.schedule, configFile: file, command })));
    if (f.dryRun) {
      c.out.info('would put these lines into your crontab (replacing an earlier pybackup block):');
      c.out.data(block);
      return;
    }
    installCrontab(withBlock(currentCrontab(), block));
    c.out.info(`crontab: ${scheduled.length} pybackup line${scheduled.length === 1 ? '' : 's'} installed (\`crontab -l\` shows them)`);
    return;
  }
  const plan = planSystemdInstall({ dir: systemdUserDir(), configFile: file, command, profiles: scheduled, all: names.length === 0 });
  if (!f.dryRun) {
    if (f.enable && plan.disable.length) systemctl(['disable', '--now', ...plan.disable]);
    applyUnitPlan(plan);
    if (f.enable) {
      systemctl(['daemon-reload']);
      systemctl(['enable', '--now', ...plan.enable]);
    }
  }
  reportUnits(c, plan, { dryRun: !!f.dryRun, ran: !!f.enable });
}

function remove(c: Context, f: Flags): void {
  if (kindOf(f) === 'cron') {
    const now = currentCrontab();
    const next = withoutBlock(now);
    if (`${next}\n` === now || next === now) {
      c.out.info('crontab: no pybackup lines');
      return;
    }
    if (f.dryRun) {
      c.out.info('would remove the pybackup lines from your crontab');
      return;
    }
    installCrontab(next === '' ? '' : `${next}\n`);
    c.out.info('crontab: pybackup lines removed');
    return;
  }
  let configFile: string | undefined;
  if (f.config !== undefined) configFile = resolve(findConfigFile(f.config));
  const plan = planSystemdRemove({ dir: systemdUserDir(), configFile });
  if (plan.remove.length === 0) {
    c.out.info(`no pybackup units in ${systemdUserDir()}${configFile ? ` for ${configFile}` : ''}`);
    return;
  }
  if (!f.dryRun) {
    if (f.disable) systemctl(['disable', '--now', ...plan.disable]);
    applyUnitPlan(plan);
    if (f.disable) systemctl(['daemon-reload']);
  }
  reportUnits(c, plan, { dryRun: !!f.dryRun, ran: !!f.disable });
}

export function registerSchedule(program: Command, ctx: () => Context): void {
  const schedule = program.command('schedule').description('install the profiles\' schedules as systemd user timers or cron lines (instead of the daemon)');
  schedule
    .command('install')
    .description('write systemd user timers (~/.config/systemd/user/pybackup-PROFILE.{service,timer}) or crontab lines for the scheduled profiles')
    .argument('[profiles...]', 'only these profiles (default: every profile with a schedule)')
    .option(...CONFIG_OPTION)
    .option('--systemd', 'systemd user timers (the default): catch up after sleep (Persistent=true)')
    .option('--cron', 'lines in your crontab (no catch-up after sleep)')
    .option('-n, --dry-run', 'show what would be written, change nothing')
    .option('--enable', 'also run systemctl --user daemon-reload and enable --now the timers')
    .action((names: string[], f: Flags) => install(ctx(), names, f));
  schedule
    .command('remove')
    .description('remove the timers or crontab lines that schedule install wrote')
    .option('-c, --config <file>', 'only the units written for this configuration file (default: all of them)')
    .option('--systemd', 'systemd user timers (the default)')
    .option('--cron', 'the pybackup lines of your crontab')
    .option('-n, --dry-run', 'show what would be removed, change nothing')
    .option('--disable', 'also run systemctl --user disable --now on the timers first, and daemon-reload after')
    .action((f: Flags) => remove(ctx(), f));
}
