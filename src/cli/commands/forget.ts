import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { assertTimeZone } from '../../prune/calendar.ts';
import { forgetSnapshots } from '../../prune/forget.ts';
import { describeGroupKey, parseGroupBy } from '../../prune/group.ts';
import { describePolicy, isEmptyPolicy } from '../../prune/policy.ts';
import { planRetention, type RetentionGroup, snapshotInstant } from '../../prune/retention.ts';
import { SnapshotNotFoundError, listSnapshots, matchesFilter, resolveSnapshot, type SnapshotFilter } from '../../repository/snapshots.ts';
import { type Context, withRepository } from '../context.ts';
import { forgetJson, groupText, idSet } from '../render/forget.ts';
import { collect, reportUnreadableSnapshot } from './common.ts';
import { type KeepFlags, policyFromFlags } from './forget-flags.ts';

interface Flags extends KeepFlags {
  host: string[];
  tag: string[];
  path: string[];
  groupBy: string;
  unsafeAllowRemoveAll?: boolean;
  dryRun?: boolean;
  prune?: boolean;
}

export const PRUNE_UNAVAILABLE = '--prune is not available yet: PyBackup has no prune operation so far; nothing was changed (run forget without --prune)';

/** The zone in which periods are counted: the local one ($TZ), as restic uses the snapshot's local time. */
function localTimeZone(c: Context): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    assertTimeZone(tz);
    return tz;
  } catch {
    c.out.warn(`warning: unknown local time zone ${JSON.stringify(tz)}; counting periods in UTC`);
    return 'UTC';
  }
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
    .option('--prune', 'run prune afterwards (not available yet)')
    .action(async (refs: string[], f: Flags) => {
      const c = ctx();
      const policy = policyFromFlags(f);
      const groupBy = parseGroupBy(f.groupBy);
      const filter: SnapshotFilter = { hosts: f.host, tags: f.tag, paths: f.path };
      const hasFilter = f.host.length + f.tag.length + f.path.length > 0;
      if (f.prune) throw new UsageError(PRUNE_UNAVAILABLE);
      if (c.globals.noLock && !f.dryRun) throw new UsageError('--no-lock is only applicable in combination with --dry-run for forget');
      if (refs.length === 0 && isEmptyPolicy(policy)) {
        if (!f.unsafeAllowRemoveAll) throw new UsageError('no policy was specified, no snapshots will be removed (give --keep-* options, or snapshot IDs)');
        if (!hasFilter) throw new UsageError('--unsafe-allow-remove-all is not allowed unless a snapshot filter option is specified (--host, --tag or --path)');
      }
      const timeZone = localTimeZone(c);

      await withRepository(c, { lock: 'exclusive' }, async (repo) => {
        const unreadable: string[] = [];
        const report = reportUnreadableSnapshot(c);
        const onError = (name: string, e: unknown): void => {
          unreadable.push(name);
          report(name, e);
        };
        const all = (await listSnapshots(repo, { signal: c.signal, onError })).filter((s) => {
          if (snapshotInstant(s.time)) return true;
          c.out.warn(`error: snapshot ${s.id}: invalid time ${JSON.stringify(s.time)}; it is left alone`);
          return false;
        });
        let groups: RetentionGroup<SnapshotWithId>[] | undefined;
        let targets: string[];
        if (refs.length > 0) {
          // explicit IDs: exactly those (the filter only narrows "latest"); any that does not resolve stops the run
          // a damaged snapshot file can be forgotten by its full id or a unique prefix (it cannot be listed)
          targets = [...new Set(refs.map((r) => resolveOrDamaged(all, unreadable, r, filter)))];
        } else {
          groups = planRetention(
            all.filter((s) => matchesFilter(s, filter)),
            policy,
            { groupBy, timeZone, now: Date.now() },
          );
          const emptied = groups.find((g) => g.keep.length === 0 && g.remove.length > 0);
          if (emptied && !isEmptyPolicy(policy)) throw new UsageError(`refusing to delete last snapshot of snapshot group "${describeGroupKey(emptied.key)}"`);
          targets = groups.flatMap((g) => g.remove.map((s) => s.id));
        }
        if (!f.dryRun && targets.length > 0) {
          repo.assertMayDelete(`forget of ${targets.length} snapshot${targets.length === 1 ? '' : 's'} ${idSet(targets)} (--dry-run shows the plan)`);
        }

        if (groups && !c.out.json) {
          c.out.info(`Applying Policy: ${describePolicy(policy)}`);
          for (const g of groups) c.out.info(groupText(g, timeZone));
        }
        if (targets.length > 0) {
          if (f.dryRun) {
            if (!c.out.json) c.out.info(`Would have removed the following snapshots:\n${idSet(targets)}\n`);
          } else {
            const r = await forgetSnapshots(repo, targets, {
              signal: c.signal,
              onError: (id, e) => c.out.warn(`unable to remove snapshot/${id} from the repository: ${(e as Error).message}`),
            });
            if (!c.out.json) c.out.info(`removed ${r.removed.length} snapshot${r.removed.length === 1 ? '' : 's'}`);
            if (r.failed.length > 0) setCode(3);
          }
        }
        if (groups && c.out.json) c.out.data(JSON.stringify(forgetJson(groups)));
      });
    });
}

function resolveOrDamaged(all: readonly SnapshotWithId[], unreadable: readonly string[], ref: string, filter: SnapshotFilter): string {
  try {
    return resolveSnapshot(all, ref, filter).id;
  } catch (e) {
    if (!(e instanceof SnapshotNotFoundError) || !/^[0-9a-f]{4,64}$/.test(ref)) throw e;
    const hits = unreadable.filter((n) => n.startsWith(ref));
    if (hits.length !== 1) throw e;
    return hits[0] as string;
  }
}
