import { PyBackupError, throwIfAborted } from '../errors.ts';
import { decodeIndex, type IndexedPack } from '../repository/index-format.ts';
import type { PackBlob } from '../repository/pack-format.ts';
import type { Repository } from '../repository/repository.ts';
import type { RepairSink } from './events.ts';

/** The slice of a repository every repair mode reads through. */
export type StateRepo = Pick<Repository, 'backend' | 'loadFile'>;

export interface IndexedPackInfo {
  /** entries of the first index file that lists the pack */
  readonly blobs: readonly PackBlob[];
  /** every index file that lists it */
  readonly files: string[];
}

/** The repository's index files as stored (never the local catalog, which may be stale), in memory. */
export interface IndexState {
  /** every index file name found, readable or not */
  readonly names: readonly string[];
  /** readable index files with their packs, in name order */
  readonly files: readonly { readonly name: string; readonly packs: readonly IndexedPack[] }[];
  readonly unreadable: readonly string[];
  readonly packs: ReadonlyMap<string, IndexedPackInfo>;
}

const isAbort = (e: unknown): boolean => e instanceof PyBackupError && e.code === 'ABORTED';
export const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Loads every index file (verified, decrypted, decoded); an unreadable one is reported as a warning and skipped. */
export async function loadIndexState(repo: StateRepo, onEvent: RepairSink, signal?: AbortSignal): Promise<IndexState> {
  const names: string[] = [];
  for await (const f of repo.backend.list('index', signal ? { signal } : undefined)) names.push(f.name);
  names.sort();
  const files: { name: string; packs: IndexedPack[] }[] = [];
  const unreadable: string[] = [];
  const packs = new Map<string, IndexedPackInfo>();
  for (const name of names) {
    throwIfAborted(signal);
    let list: IndexedPack[];
    try {
      list = [...decodeIndex(await repo.loadFile('index', name, signal))];
    } catch (e) {
      if (isAbort(e)) throw e;
      unreadable.push(name);
      onEvent({ type: 'problem', problem: { severity: 'warning', code: 'index-unreadable', indexFile: name, message: `index file ${name} is unreadable: ${reason(e)}` } });
      continue;
    }
    files.push({ name, packs: list });
    for (const p of list) {
      const known = packs.get(p.id);
      if (known) known.files.push(name);
      else packs.set(p.id, { blobs: p.blobs, files: [name] });
    }
  }
  return { names, files, unreadable, packs };
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
export async function removeFiles(repo: Pick<Repository, 'backend'>, type: 'pack' | 'index' | 'snapshot', names: Iterable<string>, onEvent: RepairSink, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for (const name of names) {
    throwIfAborted(signal);
    await repo.backend.remove({ type, name }, signal ? { signal } : undefined);
    onEvent({ type: 'removed', fileType: type, name });
    n++;
  }
  return n;
}
