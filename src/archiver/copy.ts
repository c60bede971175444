import { PyBackupError, throwIfAborted, UsageError } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { Snapshot, SnapshotWithId } from '../model/snapshot.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { parseTree } from '../model/tree-parse.ts';
import type { Repository } from '../repository/repository.ts';
import { listSnapshots, matchesFilter, resolveSnapshot, saveSnapshot, type SnapshotFilter } from '../repository/snapshots.ts';
import { BlobSaver, type BlobSaverRepo } from './blob-saver.ts';
import { ContentCopier, type CopySourceRepo } from './copy-content.ts';
import type { CopyEvent, CopySummary } from './copy-events.ts';

export type CopySource = CopySourceRepo & Pick<Repository, 'backend' | 'loadJson' | 'saveFile'>;
export type CopyDestination = BlobSaverRepo & Pick<Repository, 'flushIndex' | 'saveFile' | 'backend' | 'loadJson'>;

export interface CopyOptions {
  /** snapshot ids, unique prefixes or "latest"; empty = every snapshot matching `filter` */
  readonly snapshots?: readonly string[];
  readonly filter?: SnapshotFilter;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: CopyEvent) => void;
  /** told about source snapshot files that cannot be read (they are skipped) */
  readonly onUnreadable?: (name: string, e: unknown) => void;
}

/** Snapshots selected in the source, oldest first, each once. */
export function selectSnapshots(all: readonly SnapshotWithId[], refs: readonly string[], filter: SnapshotFilter): SnapshotWithId[] {
  if (refs.length === 0) return all.filter((s) => matchesFilter(s, filter));
  const byId = new Map<string, SnapshotWithId>();
  for (const r of refs) {
    const s = resolveSnapshot(all, r, filter);
    byId.set(s.id, s);
  }
  return [...byId.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
}

/** What makes two snapshots "the same backup" apart from their trees (as restic's similarSnapshots, minus ids). */
export function similarityKey(s: Snapshot): string {
  return JSON.stringify([new Date(s.time).getTime(), s.hostname, s.username, [...s.paths].sort(), [...(s.tags ?? [])].sort()]);
}

/**
 * Copies snapshots from `src` into `dst` (docs/design.md §14f). Blobs are re-encrypted and re-identified with the
 * destination's keys (see ContentCopier); trees are rewritten bottom-up with the new ids, each source tree once.
 * A source snapshot is skipped when the destination already has it: a destination snapshot whose `original` (or own
 * id) is the source's id, or one with the same time, host, user, paths and tags whose tree equals the copied tree.
 * Write order per snapshot is packs -> index -> snapshot, so an interruption leaves only complete snapshots.
 */
export async function copySnapshots(src: CopySource, dst: CopyDestination, o: CopyOptions = {}): Promise<CopySummary> {
  const signal = o.signal;
  const emit = o.onEvent ?? ((): void => {});
  const srcAll = await listSnapshots(src, { ...(signal ? { signal } : {}), ...(o.onUnreadable ? { onError: o.onUnreadable } : {}) });
  const selected = selectSnapshots(srcAll, o.snapshots ?? [], o.filter ?? {});
  const dstAll = await listSnapshots(dst, signal ? { signal } : {});
  /** source snapshot id -> destination snapshot id that already holds it */
  const present = new Map<string, string>();
  const similar = new Map<string, SnapshotWithId[]>();
  for (const s of dstAll) {
    present.set(s.id, s.id);
    if (s.original) present.set(s.original, s.id);
    const k = similarityKey(s);
    similar.set(k, [...(similar.get(k) ?? []), s]);
  }
  const saver = new BlobSaver(dst, { dryRun: false, signal });
  const content = new ContentCopier(src, dst, saver, signal);
  const trees = new TreeCopier(src, content, signal);
  const started = Date.now();
  const copied: { source: string; destination: string }[] = [];
  let skipped = 0;
  let done = 0;
  const progress = (): void =>
    emit({ type: 'progress', elapsedMs: Date.now() - started, bytesRead: content.bytesRead, dataAdded: saver.stats.dataAdded, done, total: selected.length });
  emit({ type: 'start', mode: content.mode, selected: selected.length });
  const timer = setInterval(progress, 250);
  try {
    for (const sn of selected) {
      throwIfAborted(signal);
      const existing = present.get(sn.id);
      if (existing !== undefined) {
        skipped++;
        emit({ type: 'skipped', source: sn.id, existing, reason: 'original' });
        done++;
        continue;
      }
      emit({ type: 'snapshot-start', source: sn.id, index: done + 1, total: selected.length, time: sn.time, hostname: sn.hostname, paths: sn.paths });
      const tree = await trees.copy(sn.tree).catch((e: unknown) => {
        if (e instanceof PyBackupError && e.code !== 'ABORTED' && e.code !== 'INTERNAL') {
          throw new PyBackupError(e.code, `cannot copy snapshot ${sn.id.slice(0, 8)}: ${e.message} (run \`pybackup check\` on the source repository)`, { cause: e });
        }
        throw e;
      });
      const twin = (similar.get(similarityKey(sn)) ?? []).find((s) => s.tree === tree);
      if (twin) {
        skipped++;
        emit({ type: 'skipped', source: sn.id, existing: twin.id, reason: 'similar' });
        done++;
        continue;
      }
      if (content.takeDirty()) {
        await saver.flush();
        await dst.flushIndex(signal);
      }
      const { id: _id, parent, ...rest } = sn;
      const next: Snapshot = { ...rest, tree, original: sn.id };
      const parentCopy = parent === undefined ? undefined : present.get(parent);
      if (parentCopy !== undefined) next.parent = parentCopy;
      const id = await saveSnapshot(dst, next, signal);
      present.set(sn.id, id);
      copied.push({ source: sn.id, destination: id });
      emit({ type: 'copied', source: sn.id, destination: id });
      done++;
    }
  } finally {
    clearInterval(timer);
    // whatever was stored is indexed, so a later run reuses it (also after an error or Ctrl-C)
    const settle = async (): Promise<void> => {
      await saver.flush();
      await dst.flushIndex();
    };
    await settle().catch(() => {});
  }
  progress();
  return {
    mode: content.mode,
    selected: selected.length,
    copied: copied.length,
    skipped,
    snapshots: copied,
    dataBlobs: saver.stats.dataBlobs,
    treeBlobs: saver.stats.treeBlobs,
    dataAdded: saver.stats.dataAdded,
    dataAddedPacked: saver.stats.dataAddedPacked,
    bytesRead: content.bytesRead,
  };
}

/** Rewrites source trees bottom-up into destination trees, memoizing source tree id -> destination tree id. */
export class TreeCopier {
  readonly #src: Pick<Repository, 'loadBlob'>;
  readonly #content: ContentCopier;
  readonly #signal: AbortSignal | undefined;
  readonly #memo = new Map<string, string>();
  /** source trees read (each once) */
  treesRead = 0;

  constructor(src: Pick<Repository, 'loadBlob'>, content: ContentCopier, signal?: AbortSignal) {
    this.#src = src;
    this.#content = content;
    this.#signal = signal;
  }

  async copy(id: string): Promise<string> {
    const known = this.#memo.get(id);
    if (known !== undefined) return known;
    throwIfAborted(this.#signal);
    if (!/^[0-9a-f]{64}$/.test(id)) throw new UsageError(`invalid tree id ${JSON.stringify(id)} in the source repository`);
    const tree = parseTree(await this.#src.loadBlob(Buffer.from(id, 'hex'), this.#signal), id);
    this.treesRead++;
    const nodes: Node[] = [];
    for (const n of tree.nodes) {
      if (n.type === 'dir' && n.subtree !== undefined) nodes.push({ ...n, subtree: await this.copy(n.subtree) });
      else if (n.type === 'file' && n.content !== undefined) nodes.push({ ...n, content: await this.#content.content(n.content) });
      else nodes.push(n);
    }
    const out = await this.#content.saveTree(encodeTree(nodes));
    this.#memo.set(id, out);
    return out;
  }
}
