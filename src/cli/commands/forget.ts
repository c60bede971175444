import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { parseGroupBy } from '../../prune/group.ts';
import { isEmptyPolicy } from '../../prune/policy.ts';
import type { SnapshotFilter } from '../../repository/snapshots.ts';
import type { Context } from '../context.ts';
import { collect } from './common.ts';
import { type KeepFlags, policyFromFlags } from './forget-flags.ts';
import { performForget } from './forget-run.ts';
import { parseMaxUnused, performPrune } from './prune.ts';

interface Flags extends KeepFlags {
  host: string[];
  tag: string[];
  path: string[];
  groupBy: string;
  unsafeAllowRemoveAll?: boolean;
  dryRun?: boolean;
  prune?: boolean;
  maxUnused: string;
  maxRepackSize?: string;
}


export function registerForget(program: Command, ctx: () => Context, setCode: (c: number) => void): void {
  program
    .command('forget')
    .description('remove snapshots according to a policy (restic semantics), or the snapshots given by ID')
    .argument('[snapshot...]', 'snapshot IDs (full, unique prefix, or "latest") to forget instead of applying a policy')
    .option('-l, --keep-last <n>', 'keep the last n snapshots ("unlimited" = all)')
    .option('-H, --keep-hourly <n>', 'keep the last n hourly snapshots ("unlimited" = all)')
    .option('-d, --keep-daily <n>', 'keep the last n daily snapshots ("unlimited" = all)')
    .option('-w, --keep-weekly <n>', 'keep the last n weekly snapshots (ISO weeks; "unlimited" = all)')
    .option('-m, --keep-monthly <n>', 'keep the last n monthly snapshots ("unlimited" = all)')
    .option('-y, --keep-yearly <n>', 'keep the last n yearly snapshots ("unlimited" = all)')
    .option('--keep-within <duration>', 'keep snapshots newer than duration (e.g. 1y5m7d2h) relative to the newest snapshot')
    .option('--keep-within-hourly <duration>', 'keep hourly snapshots newer than duration relative to the newest snapshot')
    .option('--keep-within-daily <duration>', 'keep daily snapshots newer than duration relative to the newest snapshot')
    .option('--keep-within-weekly <duration>', 'keep weekly snapshots newer than duration relative to the newest snapshot')
    .option('--keep-within-monthly <duration>', 'keep monthly snapshots newer than duration relative to the newest snapshot')
    .option('--keep-within-yearly <duration>', 'keep yearly snapshots newer than duration relative to the newest snapshot')
    .option('--keep-tag <taglist>', 'keep snapshots with these tags (a,b = both; repeatable = either)', collect, [])
    .option('--unsafe-allow-remove-all', 'allow removing every snapshot of a group (needs --host, --tag or --path)')
    .option('--host <host>', 'only consider snapshots of this host (repeatable)', collect, [])
    .option('--tag <tags>', 'only consider snapshots with these tags (a,b = both; repeatable = either)', collect, [])
    .option('--path <path>', 'only consider snapshots including this path (repeatable)', collect, [])
    .option('-g, --group-by <group>', "group snapshots by host, paths and/or tags, comma-separated ('' = no grouping)", 'host,paths')
    .option('-n, --dry-run', 'do not delete anything, just print what would be done')
    .option('--prune', 'run prune afterwards (with --dry-run: show its plan too)')
    .option('--max-unused <limit>', 'with --prune: tolerated unused space (x%, a size, or "unlimited")', '5%')
    .option('--max-repack-size <size>', 'with --prune: repack at most this many bytes')
    .action(async (refs: string[], f: Flags) => {
      const c = ctx();
      const policy = policyFromFlags(f);
      const groupBy = parseGroupBy(f.groupBy);
      const filter: SnapshotFilter = { hosts: f.host, tags: f.tag, paths: f.path };
      const hasFilter = f.host.length + f.tag.length + f.path.length > 0;
      if (f.prune) parseMaxUnused(f.maxUnused); // a bad value fails before anything is forgotten
      if (c.globals.noLock && !f.dryRun) throw new UsageError('--no-lock is only applicable in combination with --dry-run for forget');
      if (refs.length === 0 && isEmptyPolicy(policy)) {
        if (!f.unsafeAllowRemoveAll) throw new UsageError('no policy was specified, no snapshots will be removed (give --keep-* options, or snapshot IDs)');
        if (!hasFilter) throw new UsageError('--unsafe-allow-remove-all is not allowed unless a snapshot filter option is specified (--host, --tag or --path)');
      }
      const r = await performForget(c, { refs, policy, groupBy, filter, dryRun: !!f.dryRun });
      if (r.failed.length > 0) setCode(3);
      if (f.prune) await performPrune(c, { maxUnused: f.maxUnused, ...(f.maxRepackSize === undefined ? {} : { maxRepackSize: f.maxRepackSize }), ...(f.dryRun ? { dryRun: true } : {}) });
    });
}
