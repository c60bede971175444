import { UsageError } from '../errors.ts';

/** Which snapshot fields put snapshots into the same retention group (restic's `--group-by`). */
export interface GroupBy {
  readonly host: boolean;
  readonly paths: boolean;
  readonly tags: boolean;
}

export const DEFAULT_GROUP_BY: GroupBy = { host: true, paths: true, tags: false };

/** The fields a snapshot is grouped by. */
export interface GroupableSnapshot {
  readonly hostname: string;
  readonly paths: readonly string[];
  readonly tags?: readonly string[];
}

/**
 * A group's identity. Fields not grouped by are "" (host) or null (paths, tags), as in restic's JSON; grouped
 * paths and tags are sorted.
 */
export interface GroupKey {
  readonly hostname: string;
  readonly paths: readonly string[] | null;
  readonly tags: readonly string[] | null;
}

/** "host,paths" -> GroupBy; "" = no grouping; host/hosts, path/paths, tag/tags as restic accepts them. */
export function parseGroupBy(s: string): GroupBy {
  const g = { host: false, paths: false, tags: false };
  for (const raw of s.split(',')) {
    const o = raw.trim();
    if (o === 'host' || o === 'hosts') g.host = true;
    else if (o === 'path' || o === 'paths') g.paths = true;
    else if (o === 'tag' || o === 'tags') g.tags = true;
    else if (o !== '') throw new UsageError(`unknown grouping option ${JSON.stringify(o)} in --group-by (use host, paths and/or tags, or '' for none)`);
  }
  return g;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function groupKeyOf(s: GroupableSnapshot, by: GroupBy): GroupKey {
  return {
    hostname: by.host ? s.hostname : '',
    paths: by.paths ? [...s.paths].sort(byCodeUnit) : null,
    tags: by.tags ? [...(s.tags ?? [])].sort(byCodeUnit) : null,
  };
}

/** Groups in a stable order (host, then paths, then tags); each group keeps its snapshots' input order. */
export function groupSnapshots<S extends GroupableSnapshot>(snapshots: readonly S[], by: GroupBy): { key: GroupKey; snapshots: S[] }[] {
  const groups = new Map<string, { key: GroupKey; snapshots: S[] }>();
  for (const s of snapshots) {
    const key = groupKeyOf(s, by);
    const id = JSON.stringify([key.hostname, key.paths, key.tags]);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, snapshots: [] }));
    g.snapshots.push(s);
  }
  return [...groups.values()].sort((a, b) => byCodeUnit(a.key.hostname, b.key.hostname) || compareLists(a.key.paths, b.key.paths) || compareLists(a.key.tags, b.key.tags));
}

function compareLists(a: readonly string[] | null, b: readonly string[] | null): number {
  const x = a ?? [];
  const y = b ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = byCodeUnit(x[i] as string, y[i] as string);
    if (c) return c;
  }
  return x.length - y.length;
}

/** restic's SnapshotGroupKey.String(): `host h, path [/a /b], tags [x]` (used in refusals). */
export function describeGroupKey(k: GroupKey): string {
  const parts: string[] = [];
  if (k.hostname !== '') parts.push(`host ${k.hostname}`);
  if (k.paths?.length) parts.push(`path [${k.paths.join(' ')}]`);
  if (k.tags?.length) parts.push(`tags [${k.tags.join(' ')}]`);
  return parts.join(', ');
}
