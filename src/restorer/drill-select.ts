import type { SnapshotWithId } from '../model/snapshot.ts';

/**
 * The snapshots a drill restores from, newest first. `all` is oldest first (as listSnapshots returns it) and already
 * filtered. Without `count`: the latest snapshot of each host + path set. With `count`: the `count` newest snapshots.
 */
export function selectDrillSnapshots(all: readonly SnapshotWithId[], count?: number): SnapshotWithId[] {
  const newestFirst = [...all].reverse();
  if (count !== undefined) return newestFirst.slice(0, count);
  const groups = new Set<string>();
  const out: SnapshotWithId[] = [];
  for (const s of newestFirst) {
    const key = JSON.stringify([s.hostname, [...s.paths].sort()]);
    if (groups.has(key)) continue;
    groups.add(key);
    out.push(s);
  }
  return out;
}

/** A short directory name for each snapshot's restore: the 8-character id, or the full id where those collide. */
export function snapshotDirNames(snaps: readonly SnapshotWithId[]): string[] {
  const shorts = snaps.map((s) => s.id.slice(0, 8));
  return snaps.map((s, i) => (shorts.indexOf(shorts[i] as string) !== shorts.lastIndexOf(shorts[i] as string) ? s.id : (shorts[i] as string)));
}
