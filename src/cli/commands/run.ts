import type { Command } from 'commander';
import { findConfigFile, loadConfig, profileByName } from '../../app/profile/load.ts';
import type { Profile } from '../../app/profile/profile.ts';
import { runProfile } from '../../app/profile/runner.ts';
import { UsageError } from '../../errors.ts';
import type { Context } from '../context.ts';
import { profileRenderer, renderRunResult } from '../render/profile-run.ts';
import { profileSteps } from './profile-steps.ts';

interface Flags {
  config?: string;
  all?: boolean;
  dryRun?: boolean;
}

export const CONFIG_OPTION = ['-c, --config <file>', 'configuration file (default: $PYBACKUP_CONFIG, $XDG_CONFIG_HOME/pybackup/config.toml or ~/.config/pybackup/config.toml, /etc/pybackup/config.toml)'] as const;

/** The profiles to run: those named, or all of them with --all. */
function chosen(c: { profiles: ReadonlyMap<string, Profile>; file: string }, names: readonly string[], all: boolean): Profile[] {
  if (all && names.length > 0) throw new UsageError('give profile names or --all, not both');
  if (all) return [...c.profiles.values()];
  if (names.length === 0) throw new UsageError(`name the profile to run (${[...c.profiles.keys()].join(', ')}), or use --all`);
  return [...new Set(names)].map((n) => profileByName(c, n));
}

export function registerRun(program: Command, ctx: () => Context, setCode: (c: number) => void, exitCodeFor: (e: unknown) => number): void {
  program
    .command('run')
    .description('run profiles from the configuration file: hooks, filesystem snapshot, backup, retention (forget), prune and check on their cadence')
    .argument('[profiles...]', 'names of the profiles to run, in this order')
    .option(...CONFIG_OPTION)
    .option('--all', 'run every profile of the file, in the file\'s order')
    .option('-n, --dry-run', 'list the hooks and snapshot commands instead of running them; backup and forget as --dry-run; no prune, no check')
    .action(async (names: string[], f: Flags) => {
      const c = ctx();
      const file = findConfigFile(f.config);
      const config = loadConfig(file);
      for (const p of chosen(config, names, !!f.all)) {
        if (c.signal.aborted) break;
        const r = await runProfile(p, {
          configFile: file,
          steps: profileSteps(c, p),
          dryRun: !!f.dryRun,
          signal: c.signal,
          hookStdout: c.out.json ? 'stderr' : 'inherit',
          exitCodeFor,
          onEvent: profileRenderer(c.out, p.name),
        });
        c.out.clearStatus();
        renderRunResult(c.out, r);
        setCode(r.exitCode);
      }
    });
}
