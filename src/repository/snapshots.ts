import { PyBackupError, UsageError, throwIfAborted } from '../errors.ts';
import type { Snapshot, SnapshotWithId } from '../model/snapshot.ts';
import { parseIdPrefix } from './ids.ts';
import type { Repository } from './repository.ts';

export class SnapshotNotFoundError extends PyBackupError {
  constructor(message: string) {
    super('SNAPSHOT_NOT_FOUND', message);
  }
}

export interface SnapshotFilter {
  readonly hosts?: readonly string[];
  readonly tags?: readonly string[];
  readonly paths?: readonly string[];
}

type SnapRepo = Pick<Repository, 'backend' | 'loadJson' | 'saveFile'>;

function validSnapshot(o: unknown): o is Snapshot {
  const s = o as Snapshot;
  return typeof s === 'object' && s !== null && typeof s.time === 'string' && typeof s.tree === 'string' && Array.isArray(s.paths);
}

/** All snapshots, oldest first. Unreadable snapshot files are reported through `onError` and skipped. */
export async function listSnapshots(repo: SnapRepo, o: { signal?: AbortSignal; onError?: (name: string, e: unknown) => void } = {}): Promise<SnapshotWithId[]> {
  const names: string[] = [];
  for await (const f of repo.backend.list('snapshot', o.signal ? { signal: o.signal } : undefined)) names.push(f.name);
  const out: SnapshotWithId[] = [];
  const batch = 16;
  for (let i = 0; i < names.length; i += batch) {
    throwIfAborted(o.signal);
    const got = await Promise.all(
      names.slice(i, i + batch).map(async (name) => {
        try {
          const s = await repo.loadJson<unknown>('snapshot', name, o.signal);
          if (!validSnapshot(s)) throw new UsageError(`snapshot ${name} has an invalid structure`);
          return { ...s, id: name };
        } catch (e) {
          if ((e as { code?: string }).code === 'ABORTED') throw e;
          o.onError?.(name, e);
          return undefined;
        }
      }),
    );
    for (const s of got) if (s) out.push(s);
  }
  out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  return out;
}

export function matchesFilter(s: Snapshot, f: SnapshotFilter): boolean {
  if (f.hosts?.length && !f.hosts.includes(s.hostname)) return false;
  if (f.tags?.length) {
    // restic: each --tag value is "a,b" meaning all of a and b; several --tag values are alternatives
    const ok = f.tags.some((group) => group.split(',').every((t) => (s.tags ?? []).includes(t)));
    if (!ok) return false;
  }
  if (f.paths?.length) {
    const set = new Set(s.paths);
    if (!f.paths.every((p) => set.has(p))) return false;
  }
  return true;
}

/** Resolves "latest", a full id or a unique id prefix (among snapshots matching `filter` for "latest"). */
export function resolveSnapshot(all: readonly SnapshotWithId[], ref: string, filter: SnapshotFilter = {}): SnapshotWithId {
  if (ref === 'latest') {
    const c = all.filter((s) => matchesFilter(s, filter));
    const last = c[c.length - 1];
    if (!last) throw new SnapshotNotFoundError('no snapshot found (latest)');
    return last;
  }
  const p = parseIdPrefix(ref);
  const hits = all.filter((s) => s.id.startsWith(p));
  if (hits.length === 0) throw new SnapshotNotFoundError(`no snapshot matches ID ${JSON.stringify(ref)}`);
  if (hits.length > 1) throw new UsageError(`ID prefix ${JSON.stringify(ref)} is ambiguous (${hits.length} snapshots match); give more digits`);
  return hits[0] as SnapshotWithId;
}

export async function saveSnapshot(repo: Pick<Repository, 'saveFile'>, s: Snapshot, signal?: AbortSignal): Promise<string> {
  return await repo.saveFile('snapshot', Buffer.from(JSON.stringify(s)), signal);
}
