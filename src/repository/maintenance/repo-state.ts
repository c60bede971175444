import { PyBackupError, throwIfAborted } from '../../errors.ts';
import type { IndexedPack } from '../index-format.ts';
import { type Mark, decodeIndexDirFile } from '../mark-format.ts';
import type { PackBlob } from '../pack-format.ts';
import type { Repository } from '../repository.ts';
import type { MaintenanceSink } from './events.ts';

/** The slice of a repository maintenance reads through. */
export type StateRepo = Pick<Repository, 'backend' | 'loadFile'>;

export interface IndexedPackInfo {
  /** entries of the first index file that lists the pack */
  readonly blobs: readonly PackBlob[];
  /** every index file that lists it */
  readonly files: string[];
}

/** The repository's index directory as stored (never the local catalog, which may be stale), in memory. */
export interface IndexState {
  /** every file name found in the index directory (index and mark files), readable or not */
  readonly names: readonly string[];
  /** readable index files with their packs, in name order */
  readonly files: readonly { readonly name: string; readonly packs: readonly IndexedPack[] }[];
  /** readable mark files (docs/design.md §14e), in name order */
  readonly marks: readonly { readonly name: string; readonly mark: Mark }[];
  readonly unreadable: readonly string[];
  /** packs the index files list (mark files' restated entries are not counted: they repeat index entries) */
  readonly packs: ReadonlyMap<string, IndexedPackInfo>;
}

const isAbort = (e: unknown): boolean => e instanceof PyBackupError && e.code === 'ABORTED';
export const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Loads every index and mark file (verified, decrypted, decoded); an unreadable one is reported as a warning and
 * skipped. With `previous`, only files it has not seen are loaded and added to it (files are never modified).
 */
export async function loadIndexState(repo: StateRepo, onEvent: MaintenanceSink, signal?: AbortSignal, previous?: IndexState): Promise<IndexState> {
  const names: string[] = [];
  for await (const f of repo.backend.list('index', signal ? { signal } : undefined)) names.push(f.name);
  names.sort();
  const seen = new Set(previous?.names);
  const files = [...(previous?.files ?? [])];
  const marks = [...(previous?.marks ?? [])];
  const unreadable = [...(previous?.unreadable ?? [])];
  const packs = new Map<string, IndexedPackInfo>();
  for (const [id, p] of previous?.packs ?? []) packs.set(id, { blobs: p.blobs, files: [...p.files] });
  for (const name of names) {
    if (seen.has(name)) continue;
    throwIfAborted(signal);
    let file;
    try {
      file = decodeIndexDirFile(await repo.loadFile('index', name, signal));
    } catch (e) {
      if (isAbort(e)) throw e;
      unreadable.push(name);
      onEvent({ type: 'problem', problem: { severity: 'warning', code: 'index-unreadable', indexFile: name, message: `index file ${name} is unreadable: ${reason(e)}` } });
      continue;
    }
    if (file.kind === 'mark') {
      marks.push({ name, mark: file.mark });
      continue;
    }
    files.push({ name, packs: file.packs });
    for (const p of file.packs) {
      const known = packs.get(p.id);
      if (known) known.files.push(name);
      else packs.set(p.id, { blobs: p.blobs, files: [name] });
    }
  }
  const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { names: [...new Set([...(previous?.names ?? []), ...names])].sort(), files: files.sort(byName), marks: marks.sort(byName), unreadable, packs };
}

/** Packs that a mark file lists. */
export function markedPacks(state: IndexState): Set<string> {
  const out = new Set<string>();
  for (const m of state.marks) for (const p of m.mark.packs) out.add(p);
  return out;
}

/** Stored packs: id -> size. */
export async function listPackSizes(repo: Pick<Repository, 'backend'>, signal?: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const f of repo.backend.list('pack', signal ? { signal } : undefined)) out.set(f.name, f.size);
  return out;
}

/** Whether two entry lists describe the same blobs at the same places. */
export function sameEntries(a: readonly PackBlob[], b: readonly PackBlob[]): boolean {
  if (a.length !== b.length) return false;
  const key = (x: PackBlob): string => `${x.offset}:${x.length}:${x.rawLength}:${x.type}:${x.id.toString('hex')}`;
  const set = new Set(a.map(key));
  return b.every((x) => set.has(key(x)));
}

/** Removes files one by one, reporting each; a file already gone is not an error. */
export async function removeFiles(repo: Pick<Repository, 'backend'>, type: 'pack' | 'index' | 'snapshot', names: Iterable<string>, onEvent: MaintenanceSink, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const name of names) {
    throwIfAborted(signal);
    await repo.backend.remove({ type, name }, signal ? { signal } : undefined);
    onEvent({ type: 'removed', fileType: type, name });
    n++;
  }
  return n;
}
