import type { Command } from 'commander';
import { copySnapshots } from '../../archiver/copy.ts';
import { UsageError } from '../../errors.ts';
import { type Context, underLock, withRepository } from '../context.ts';
import { CopyRenderer } from '../render/copy.ts';
import { collect, reportUnreadableSnapshot } from './common.ts';
import { addFromRepoOptions, type FromRepoFlags, openFromRepo } from './from-repo.ts';

interface CopyFlags extends FromRepoFlags {
  host: string[];
  tag: string[];
  path: string[];
}

/**
 * `copy --from-repo SRC [SNAPSHOT...]`: copies snapshots from SRC into the repository of -r (docs/design.md §14f).
 * The destination is locked like a backup (it only adds), the source with a shared lock.
 */
export function registerCopy(program: Command, ctx: () => Context): void {
  const cmd = program
    .command('copy')
    .description('copy snapshots from another repository into this one (re-encrypted with this repository\'s keys)')
    .argument('[snapshot...]', 'snapshot IDs, unique prefixes or "latest" in the source; default: all (matching the filters)')
    .option('-H, --host <host>', 'only snapshots of this host (repeatable)', collect, [])
    .option('--tag <tags>', 'only snapshots with these tags (a,b = both; repeatable = either)', collect, [])
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect, []);
  addFromRepoOptions(cmd).action(async (snapshots: string[], f: CopyFlags) => {
    const c = ctx();
    const render = new CopyRenderer(c.out);
    const summary = await withRepository(c, { lock: 'backup' }, async (dst) => {
      await dst.adoptOrphanPacks(c.signal);
      const src = await openFromRepo(c, f);
      try {
        if (src.config.id === dst.config.id) throw new UsageError('the source and destination are the same repository');
        return await underLock(c, src, 'shared', async (s) =>
          await copySnapshots(s, dst, {
            snapshots,
            filter: { hosts: f.host, tags: f.tag, paths: f.path },
            signal: c.signal,
            onEvent: render.onEvent,
            onUnreadable: reportUnreadableSnapshot(c),
          }),
        );
      } finally {
        await src.close().catch(() => {});
      }
    });
    render.summary(summary);
  });
}
