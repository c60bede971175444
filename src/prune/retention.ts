import { InvalidInputError } from '../errors.ts';
import { addDate, assertTimeZone, isoWeek, type WallClock, wallClock } from './calendar.ts';
import { formatDuration, isZeroDuration, type RetentionDuration } from './duration.ts';
import { DEFAULT_GROUP_BY, type GroupableSnapshot, type GroupBy, type GroupKey, groupSnapshots } from './group.ts';
import { COUNT_RULES, type CountRule, formatTagList, type RetentionPolicy, validatePolicy, WITHIN_RULES } from './policy.ts';

/**
 * The retention planner: restic's `ApplyPolicy` (internal/data/snapshot_policy.go, restic 0.18), rule for rule.
 * Pure and deterministic: the time zone that names hours/days/weeks/months/years and the "now" that excludes
 * future snapshots from being the reference for `--keep-within*` are parameters.
 */
export interface RetentionSnapshot extends GroupableSnapshot {
  readonly id: string;
  /** RFC 3339 (what snapshots store), e.g. 2024-03-31T01:30:00.000Z */
  readonly time: string;
}

/** Each count rule's remaining count after this snapshot was evaluated; zero counts are left out (as restic's JSON). */
export type KeepCounters = Partial<Record<CountRule, number>>;

export interface KeepReason<S> {
  readonly snapshot: S;
  /** every rule that kept it, restic's wording: "daily snapshot", "oldest monthly snapshot", "within 1d", ... */
  readonly matches: readonly string[];
  readonly counters: KeepCounters;
}

export interface PolicyResult<S> {
  /** newest first, as `reasons` */
  readonly keep: S[];
  /** newest first */
  readonly remove: S[];
  readonly reasons: KeepReason<S>[];
}

export interface RetentionGroup<S> extends PolicyResult<S> {
  readonly key: GroupKey;
}

export interface PlanOptions {
  /** default: host and paths */
  readonly groupBy?: GroupBy;
  /** IANA zone in which periods are counted and `--keep-within` months/days are subtracted; default "UTC" */
  readonly timeZone?: string;
  /** snapshots at or after `now` are never the reference of `--keep-within*`; absent = no snapshot is in the future */
  readonly now?: number | Date;
}

/** An instant with restic's nanosecond precision: epoch milliseconds plus the nanoseconds below them. */
export interface Instant {
  readonly ms: number;
  readonly ns: number;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9})\d*)?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses a snapshot's time (RFC 3339 with an offset); undefined when it is not one. */
export function snapshotInstant(time: string): Instant | undefined {
  const m = RFC3339.exec(time);
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const base = Date.parse(`${m[1]}${m[3]?.toUpperCase()}`);
  if (Number.isNaN(base)) return undefined;
  return { ms: base + Number(frac.slice(0, 3)), ns: Number(frac.slice(3)) };
}

function compareInstants(a: Instant, b: Instant): number {
  return a.ms - b.ms || a.ns - b.ns;
}

/** Splits `snapshots` into groups (restic's --group-by) and applies `policy` to each. */
export function planRetention<S extends RetentionSnapshot>(snapshots: readonly S[], policy: RetentionPolicy, o: PlanOptions = {}): RetentionGroup<S>[] {
  validatePolicy(policy);
  return groupSnapshots(snapshots, o.groupBy ?? DEFAULT_GROUP_BY).map((g) => ({ key: g.key, ...applyPolicy(g.snapshots, policy, o) }));
}

type Bucketer = (w: WallClock, nr: number) => number;
const BUCKETERS: Record<CountRule, Bucketer> = {
  last: (_w, nr) => nr,
  hourly: (w) => w.year * 1_000_000 + w.month * 10_000 + w.day * 100 + w.hour,
  daily: (w) => w.year * 10_000 + w.month * 100 + w.day,
  weekly: (w) => {
    const { year, week } = isoWeek(w.year, w.month, w.day);
    return year * 100 + week;
  },
  monthly: (w) => w.year * 100 + w.month,
  yearly: (w) => w.year,
};

/** One group: which snapshots the policy keeps (with every matching rule) and which it removes. */
export function applyPolicy<S extends RetentionSnapshot>(list: readonly S[], policy: RetentionPolicy, o: Omit<PlanOptions, 'groupBy'> = {}): PolicyResult<S> {
  validatePolicy(policy);
  const tz = o.timeZone ?? 'UTC';
  assertTimeZone(tz);
  const items = list.map((s) => {
    const t = snapshotInstant(s.time);
    if (!t) throw new InvalidInputError(`snapshot ${s.id} has an invalid time ${JSON.stringify(s.time)}`);
    return { s, t };
  });
  // newest first; restic keeps the listing order for equal times, which is arbitrary: here the smaller id first
  items.sort((a, b) => compareInstants(b.t, a.t) || (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0));
  const result: PolicyResult<S> = { keep: [], remove: [], reasons: [] };
  if (items.length === 0) return result;

  // the reference of --keep-within*: the newest snapshot strictly before now (restic's findLatestTimestamp)
  const now = o.now === undefined ? undefined : typeof o.now === 'number' ? o.now : o.now.getTime();
  let latest: Instant | undefined;
  for (const { t } of items) if ((now === undefined || t.ms < now) && (!latest || compareInstants(t, latest) > 0)) latest = t;
  // restic then counts back from Go's zero time (year 1), so every snapshot is "within"
  const cutoff = (d: RetentionDuration): Instant =>
    latest ? { ms: addDate(latest.ms, tz, -d.years, -d.months, -d.days) - d.hours * 3_600_000, ns: latest.ns } : { ms: -Infinity, ns: 0 };

  const buckets = COUNT_RULES.map((rule) => ({ rule, count: policy[rule] ?? 0, last: undefined as number | undefined, reason: `${rule} snapshot` }));
  const withinBuckets = WITHIN_RULES.flatMap((rule) => {
    const d = policy[rule];
    if (!d || isZeroDuration(d)) return [];
    const kind = rule.slice('within'.length).toLowerCase() as CountRule;
    return [{ bucketer: BUCKETERS[kind], cut: cutoff(d), last: undefined as number | undefined, reason: `${kind} within`, suffix: formatDuration(d) }];
  });
  const within = policy.within && !isZeroDuration(policy.within) ? { cut: cutoff(policy.within), text: `within ${formatDuration(policy.within)}` } : undefined;

  items.forEach(({ s, t }, nr) => {
    const oldest = nr === items.length - 1;
    let wall: WallClock | undefined;
    const period = (b: Bucketer): number => b((wall ??= wallClock(t.ms, tz)), nr);
    const matches: string[] = [];
    // tags are not counted
    for (const l of policy.tags ?? []) if (hasTags(s.tags, l)) matches.push(`has tags ${formatTagList(l)}`);
    if (within && compareInstants(t, within.cut) > 0) matches.push(within.text);
    for (const b of buckets) {
      if (b.count <= 0 && b.count !== -1) continue;
      const val = period(BUCKETERS[b.rule]);
      // the oldest snapshot is kept too while the rule has counts left: it maximizes the history kept
      if (val !== b.last || oldest) {
        matches.push(val === b.last ? `oldest ${b.reason}` : b.reason);
        b.last = val;
        if (b.count > 0) b.count--;
      }
    }
    for (const b of withinBuckets) {
      if (compareInstants(t, b.cut) <= 0) continue;
      const val = period(b.bucketer);
      if (val !== b.last || oldest) {
        matches.push(`${val === b.last ? 'oldest ' : ''}${b.reason} ${b.suffix}`);
        b.last = val;
      }
    }
    if (matches.length === 0) {
      result.remove.push(s);
      return;
    }
    const counters: KeepCounters = {};
    for (const b of buckets) if (b.count !== 0) counters[b.rule] = b.count;
    result.keep.push(s);
    result.reasons.push({ snapshot: s, matches, counters });
  });
  return result;
}

/** restic's Snapshot.HasTags: every tag of `l` is present; a "" in `l` matches a snapshot without tags. */
function hasTags(tags: readonly string[] | undefined, l: readonly string[]): boolean {
  const have = tags ?? [];
  for (const tag of l) {
    if (tag === '' && have.length === 0) return true;
    if (!have.includes(tag)) return false;
  }
  return true;
}
