import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { runDrill } from '../../restorer/drill.ts';
import { parseSampleSpec } from '../../restorer/sample.ts';
import { type Context, withRepository } from '../context.ts';
import { DrillRenderer } from '../render/drill.ts';
import { collect } from './common.ts';

interface Flags {
  sample: string;
  snapshots?: string;
  host: string[];
  tag: string[];
  path: string[];
  seed?: string;
  target?: string;
  keep?: boolean;
}

export function registerDrill(program: Command, ctx: () => Context, setCode: (c: number) => void): void {
  program
    .command('drill')
    .description('restore drill: restore a random sample of files into a temporary directory and check them against the snapshots')
    .option('--sample <n|x%>', 'how many files and symlinks to restore: a number, or a percentage of all', '100')
    .option('--snapshots <k>', 'drill the k most recent snapshots (default: the latest snapshot of each host and path set)')
    .option('-H, --host <host>', 'only snapshots of this host (repeatable)', collect, [])
    .option('--tag <tags>', 'only snapshots with these tags (a,b = both; repeatable = either)', collect, [])
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect, [])
    .option('--seed <seed>', 'seed of the random sample: the same seed and snapshots pick the same files')
    .option('-t, --target <dir>', 'make the temporary restore directory in this directory (default: the system temp directory)')
    .option('--keep', 'keep the restored files (the directory is printed)')
    .action(async (f: Flags) => {
      const c = ctx();
      const sample = parseSampleSpec(f.sample);
      let snapshots: number | undefined;
      if (f.snapshots !== undefined) {
        snapshots = Number(f.snapshots);
        if (!/^\d+$/.test(f.snapshots.trim()) || !Number.isSafeInteger(snapshots) || snapshots < 1) {
          throw new UsageError(`invalid --snapshots ${JSON.stringify(f.snapshots)}: expected a whole number of at least 1`);
        }
      }
      if (f.seed !== undefined && f.seed.trim() === '') throw new UsageError('--seed needs a value');
      const render = new DrillRenderer(c.out);
      const summary = await withRepository(c, { lock: 'shared' }, async (repo) =>
        await runDrill(repo, {
          sample,
          filter: { hosts: f.host, tags: f.tag, paths: f.path },
          keep: !!f.keep,
          signal: c.signal,
          onEvent: render.onEvent,
          ...(snapshots !== undefined ? { snapshots } : {}),
          ...(f.seed !== undefined ? { seed: f.seed } : {}),
          ...(f.target !== undefined ? { target: f.target } : {}),
        }),
      );
      if (summary.failed > 0 || summary.errors > 0) setCode(1);
    });
}
