import type { SnapshotWithId } from '../../model/snapshot.ts';
import { formatWallClock } from '../../prune/calendar.ts';
import type { GroupKey } from '../../prune/group.ts';
import { type KeepReason, type RetentionGroup, snapshotInstant } from '../../prune/retention.ts';

/** Renders forget plans as restic does: per group a "keep" table with reasons and a "remove" table; or JSON. */

/** restic's PrintSnapshotGroupHeader: "snapshots for (host [h], paths [/a, /b]):"; "" when not grouped at all. */
export function groupHeader(k: GroupKey): string {
  const info: string[] = [];
  if (k.hostname !== '') info.push(`host [${k.hostname}]`);
  if (k.tags) info.push(`tags [${k.tags.join(', ')}]`);
  if (k.paths) info.push(`paths [${k.paths.join(', ')}]`);
  return info.length ? `snapshots for (${info.join(', ')}):` : '';
}

function localTime(s: SnapshotWithId, timeZone: string): string {
  const t = snapshotInstant(s.time);
  return t ? formatWallClock(t.ms, timeZone) : s.time;
}

/**
 * A text table whose cells may hold several lines (reasons, paths), oldest snapshot first as restic prints them;
 * rows are separated by a blank line when some snapshot has several paths.
 */
export function snapshotTable(list: readonly SnapshotWithId[], reasons: readonly KeepReason<SnapshotWithId>[] | undefined, timeZone: string): string {
  const why = new Map(reasons?.map((r) => [r.snapshot.id, r.matches]));
  const ordered = [...list].sort((a, b) => (snapshotInstant(a.time)?.ms ?? 0) - (snapshotInstant(b.time)?.ms ?? 0));
  const header = ['ID', 'Time', 'Host', 'Tags', ...(reasons ? ['Reasons'] : []), 'Paths'];
  const rows = ordered.map((s) => [
    [s.id.slice(0, 8)],
    [localTime(s, timeZone)],
    [s.hostname],
    [(s.tags ?? []).join(',')],
    ...(reasons ? [[...(why.get(s.id) ?? [])]] : []),
    [...s.paths],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.flatMap((r) => (r[i] ?? []).map((l) => l.length))));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const sep = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  const multiline = list.some((s) => s.paths.length > 1);
  const out = [fmt(header), sep];
  rows.forEach((r, n) => {
    if (multiline && n > 0) out.push('');
    const height = Math.max(...r.map((c) => c.length), 1);
    for (let i = 0; i < height; i++) out.push(fmt(r.map((c) => c[i] ?? '')));
  });
  out.push(sep, `${list.length} snapshots`);
  return out.join('\n');
}

/** The text plan of one group: header, "keep N snapshots:" table, "remove N snapshots:" table. */
export function groupText(g: RetentionGroup<SnapshotWithId>, timeZone: string): string {
  const parts: string[] = [];
  const header = groupHeader(g.key);
  if (header) parts.push(header);
  if (g.keep.length) parts.push(`keep ${g.keep.length} snapshots:`, snapshotTable(g.keep, g.reasons, timeZone), '');
  if (g.remove.length) parts.push(`remove ${g.remove.length} snapshots:`, snapshotTable(g.remove, undefined, timeZone), '');
  return parts.join('\n');
}

/** restic's IDSet.String(): "{3a1c0f4e 9b22aa01}" (short ids, sorted). */
export function idSet(ids: readonly string[]): string {
  return `{${[...ids].sort().map((id) => id.slice(0, 8)).join(' ')}}`;
}

function snapshotJson(s: SnapshotWithId): Record<string, unknown> {
  return { ...s, short_id: s.id.slice(0, 8) };
}

/**
 * restic's forget JSON: one object per group, `{tags, host, paths, keep, remove, reasons}`; lists are newest first;
 * reasons carry the snapshot, every matching rule and the counters left (restic >= 0.17 dropped the counters
 * from its output; they are kept here). Empty lists are [] where restic writes null.
 */
export function forgetJson(groups: readonly RetentionGroup<SnapshotWithId>[]): unknown[] {
  return groups.map((g) => ({
    tags: g.key.tags,
    host: g.key.hostname,
    paths: g.key.paths,
    keep: g.keep.map(snapshotJson),
    remove: g.remove.map(snapshotJson),
    reasons: g.reasons.map((r) => ({ snapshot: snapshotJson(r.snapshot), matches: r.matches, counters: r.counters })),
  }));
}
