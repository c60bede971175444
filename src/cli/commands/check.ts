import { type Command, Option } from 'commander';
import { updateState } from '../../app/profile/state.ts';
import { parseSize } from '../../archiver/size.ts';
import { runCheck } from '../../checker/checker.ts';
import { parseSubset, type ReadDataSubset } from '../../checker/subset.ts';
import { IntegrityError, UsageError } from '../../errors.ts';
import type { CheckSummary } from '../../checker/events.ts';
import type { Context } from '../context.ts';
import { CheckRenderer } from '../render/check.ts';
import { commandSession, type Session } from '../session.ts';

interface Flags {
  readData?: boolean;
  readDataSubset?: string;
  workers?: string;
}

export function registerCheck(program: Command, ctx: () => Context): void {
  program
    .command('check')
    .description('check the repository for errors: structure, and with --read-data every stored byte')
    .option('--read-data', 'read all packs and verify every blob')
    .option('--read-data-subset <subset>', 'read only a subset of the packs: n/t (part n of t; 1/t..t/t cover all), x% (random), or a size such as 500M')
    .addOption(new Option('--workers <n>', 'read-data worker threads').hideHelp())
    .action(async (f: Flags) => {
      const c = ctx();
      let readData: ReadDataSubset | undefined;
      if (f.readDataSubset !== undefined) readData = parseSubset(f.readDataSubset, parseSize);
      else if (f.readData) readData = { kind: 'all' };
      let workers: number | undefined;
      if (f.workers !== undefined) {
        workers = Number(f.workers);
        if (!/^\d+$/.test(f.workers.trim()) || workers < 1 || workers > 64) throw new UsageError('--workers must be a whole number from 1 to 64');
      }
      await performCheck(c, { ...(readData ? { readData } : {}), ...(workers ? { workers } : {}) });
    });
}

/** `check` once its flags are parsed, for the command and for profile runs; throws IntegrityError on errors. */
export async function performCheck(c: Context, o: { readData?: ReadDataSubset; workers?: number }, s: { session?: Session } = {}): Promise<CheckSummary> {
  const render = new CheckRenderer(c.out);
  const session = s.session ?? commandSession(c);
  const summary = await session('shared', async (repo) => {
    const result = await runCheck(repo, { onEvent: render.onEvent, signal: c.signal, ...o });
    // remembered for overviews (the web UI); a cache: failing to write it does not fail the check
    try {
      const run = { time: new Date().toISOString(), errors: result.errors, readData: o.readData !== undefined };
      updateState((st) => {
        st.repositories[repo.config.id] = { ...st.repositories[repo.config.id], lastCheckRun: run };
      });
    } catch (e) {
      c.out.warn(`warning: cannot record the check in the state file: ${(e as Error).message}`);
    }
    return result;
  });
  c.out.clearStatus();
  render.summary(summary);
  if (summary.errors > 0) throw new IntegrityError(`the repository contains errors (${summary.errors} found)`);
  return summary;
}
