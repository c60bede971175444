import type { Command } from 'commander';
import { IntegrityError } from '../../errors.ts';
import { repairIndex } from '../../repair/repair-index.ts';
import { repairPacks } from '../../repair/repair-packs.ts';
import { repairSnapshots } from '../../repair/repair-snapshots.ts';
import { type Context, withRepository } from '../context.ts';
import { RepairRenderer } from '../render/repair.ts';

interface DryRun {
  dryRun?: boolean;
}

/** Repairs change the repository: exclusive lock. A dry run only reads: a shared lock does. */
const lockFor = (f: DryRun): 'shared' | 'exclusive' => (f.dryRun ? 'shared' : 'exclusive');

export function registerRepair(program: Command, ctx: () => Context): void {
  const repair = program
    .command('repair')
    .description('repair a damaged repository: rebuild the index, salvage damaged packs, drop lost files from snapshots');

  repair
    .command('index')
    .description('rebuild the index from the packs that exist')
    .option('--read-all-packs', 'read the header of every pack, not only of packs the index does not describe')
    .option('-n, --dry-run', 'show what would change; change nothing')
    .action(async (f: DryRun & { readAllPacks?: boolean }) => {
      const c = ctx();
      const render = new RepairRenderer(c.out);
      const s = await withRepository(c, { lock: lockFor(f) }, async (repo) =>
        await repairIndex(repo, { onEvent: render.onEvent, signal: c.signal, readAllPacks: !!f.readAllPacks, dryRun: !!f.dryRun }),
      );
      c.out.clearStatus();
      render.indexSummary(s);
      if (s.plan.unreadable.length > 0) {
        throw new IntegrityError(`${s.plan.unreadable.length} pack(s) have unreadable headers: run "pybackup repair packs ${s.plan.unreadable.join(' ')}"`);
      }
    });

  repair
    .command('packs')
    .description('salvage the readable blobs of damaged packs into new packs and remove the damaged ones')
    .argument('[pack...]', 'pack IDs (or unique prefixes); default: read every pack and repair the damaged ones')
    .option('-n, --dry-run', 'show what would change; change nothing')
    .action(async (packs: string[], f: DryRun) => {
      const c = ctx();
      const render = new RepairRenderer(c.out);
      const s = await withRepository(c, { lock: lockFor(f) }, async (repo) =>
        await repairPacks(repo, { onEvent: render.onEvent, signal: c.signal, packs, dryRun: !!f.dryRun }),
      );
      c.out.clearStatus();
      render.packsSummary(s);
    });

  repair
    .command('snapshots')
    .description('rewrite snapshots without the files and directories whose data is lost')
    .argument('[snapshot...]', 'snapshot IDs, unique prefixes or "latest"; default: all snapshots')
    .option('--forget', 'remove each damaged original once its repaired snapshot is saved')
    .option('-n, --dry-run', 'show what would change; change nothing')
    .action(async (snapshots: string[], f: DryRun & { forget?: boolean }) => {
      const c = ctx();
      const render = new RepairRenderer(c.out);
      const s = await withRepository(c, { lock: lockFor(f) }, async (repo) =>
        await repairSnapshots(repo, { onEvent: render.onEvent, signal: c.signal, snapshots, forget: !!f.forget, dryRun: !!f.dryRun }),
      );
      c.out.clearStatus();
      render.snapshotsSummary(s, !!f.forget);
      if (s.unrepairable > 0) throw new IntegrityError(`${s.unrepairable} snapshot(s) cannot be repaired: their root tree is unreadable`);
    });
}
