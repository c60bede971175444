import { UsageError } from '../../errors.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { assertTimeZone } from '../../prune/calendar.ts';
import { forgetSnapshots } from '../../prune/forget.ts';
import { describeGroupKey, type GroupBy } from '../../prune/group.ts';
import { describePolicy, isEmptyPolicy, type RetentionPolicy } from '../../prune/policy.ts';
import { planRetention, type RetentionGroup, snapshotInstant } from '../../prune/retention.ts';
import { SnapshotNotFoundError, listSnapshots, matchesFilter, resolveSnapshot, type SnapshotFilter } from '../../repository/snapshots.ts';
import type { Context } from '../context.ts';
import { forgetJson, groupText, idSet } from '../render/forget.ts';
import { commandSession, type Session } from '../session.ts';
import { reportUnreadableSnapshot } from './common.ts';

export interface ForgetRequest {
  /** snapshot IDs to forget instead of applying the policy */
  readonly refs: readonly string[];
  readonly policy: RetentionPolicy;
  readonly groupBy: GroupBy;
  readonly filter: SnapshotFilter;
  readonly dryRun: boolean;
}

export interface ForgetOutcome {
  /** what was removed (or, in a dry run, would be) */
  readonly removed: readonly string[];
  readonly failed: readonly string[];
  readonly kept: number;
}

/** The zone in which periods are counted: the local one ($TZ), as restic uses the snapshot's local time. */
export function localTimeZone(c: Context): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    assertTimeZone(tz);
    return tz;
  } catch {
    c.out.warn(`warning: unknown local time zone ${JSON.stringify(tz)}; counting periods in UTC`);
    return 'UTC';
  }
}

/** `forget` once its flags are checked: for the command and for profile runs (`session`: see session.ts). */
export async function performForget(c: Context, req: ForgetRequest, o: { session?: Session } = {}): Promise<ForgetOutcome> {
  const { refs, policy, groupBy, filter } = req;
  const timeZone = localTimeZone(c);
  const session = o.session ?? commandSession(c);
  return await session('exclusive', async (repo) => {
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
    if (!req.dryRun && targets.length > 0) {
      repo.assertMayDelete(`forget of ${targets.length} snapshot${targets.length === 1 ? '' : 's'} ${idSet(targets)} (--dry-run shows the plan)`);
    }

    if (groups && !c.out.json) {
      c.out.info(`Applying Policy: ${describePolicy(policy)}`);
      for (const g of groups) c.out.info(groupText(g, timeZone));
    }
    let removed: readonly string[] = targets;
    let failed: readonly string[] = [];
    if (targets.length > 0) {
      if (req.dryRun) {
        if (!c.out.json) c.out.info(`Would have removed the following snapshots:\n${idSet(targets)}\n`);
      } else {
        const r = await forgetSnapshots(repo, targets, {
          signal: c.signal,
          onError: (id, e) => c.out.warn(`unable to remove snapshot/${id} from the repository: ${(e as Error).message}`),
        });
        if (!c.out.json) c.out.info(`removed ${r.removed.length} snapshot${r.removed.length === 1 ? '' : 's'}`);
        removed = r.removed;
        failed = r.failed;
      }
    }
    if (groups && c.out.json) c.out.data(JSON.stringify(forgetJson(groups)));
    return { removed, failed, kept: groups ? groups.reduce((n, g) => n + g.keep.length, 0) : all.length - targets.length };
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
