import type { Command } from 'commander';
import { parseSize } from '../../archiver/size.ts';
import { UsageError } from '../../errors.ts';
import type { MaxUnused } from '../../prune/prune-events.ts';
import { prune } from '../../prune/prune-run.ts';
import type { Context } from '../context.ts';
import { type Session, commandSession } from '../session.ts';
import { PruneRenderer } from '../render/prune.ts';

export interface PruneFlags {
  maxUnused: string;
  maxRepackSize?: string;
  dryRun?: boolean;
}

/** restic's `--max-unused`: "x%" (of the used data, 0 ≤ x ≤ 100), a size ("10M"), or "unlimited". */
export function parseMaxUnused(s: string): MaxUnused {
  const t = s.trim();
  if (t.toLowerCase() === 'unlimited') return { kind: 'unlimited' };
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const value = Number(pct[1]);
    if (!(value >= 0 && value <= 100)) throw new UsageError(`invalid --max-unused ${JSON.stringify(s)}: a percentage must be from 0% to 100%`);
    return value === 100 ? { kind: 'unlimited' } : { kind: 'percent', value };
  }
  try {
    return { kind: 'bytes', value: parseSize(t) };
  } catch {
    throw new UsageError(`invalid --max-unused ${JSON.stringify(s)}: expected a percentage (5%), a size (500M) or "unlimited"`);
  }
}

export function registerPrune(program: Command, ctx: () => Context): void {
  program
    .command('prune')
    .description('remove unreferenced data and repack partly used packs; safe while backups run (two phases: mark, then delete)')
    .option('--max-unused <limit>', 'tolerate this much unused space: x% of the used data, a size, or "unlimited" (no repacking)', '5%')
    .option('--max-repack-size <size>', 'repack at most this many bytes of packs')
    .option('-n, --dry-run', 'show the plan: packs kept, repacked, deleted, and the bytes freed; change nothing')
    .action(async (f: PruneFlags) => {
      await performPrune(ctx(), f);
    });
}

/** The prune command's work, shared with `forget --prune` and a profile's prune step (through its session). */
export async function performPrune(c: Context, f: PruneFlags, o: { session?: Session } = {}): Promise<void> {
  const maxUnused = parseMaxUnused(f.maxUnused);
  const maxRepackSize = f.maxRepackSize === undefined ? undefined : parseSize(f.maxRepackSize);
  if (c.globals.noLock && !f.dryRun) throw new UsageError('--no-lock is only applicable in combination with --dry-run for prune');
  const render = new PruneRenderer(c.out);
  const session = o.session ?? commandSession(c);
  // a prune lock coexists with backups (shared locks) and excludes exclusive operations and other prunes
  const s = await session(f.dryRun ? 'shared' : 'prune', async (repo, lock) =>
    await prune(repo, {
      maxUnused,
      ...(maxRepackSize !== undefined ? { maxRepackSize } : {}),
      dryRun: !!f.dryRun,
      signal: c.signal,
      onEvent: render.onEvent,
      ownLock: (name) => lock?.owns(name) ?? false,
    }),
  );
  c.out.clearStatus();
  render.summary(s);
}
