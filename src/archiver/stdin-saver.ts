import type { Readable } from 'node:stream';
import { createChunker, deriveGearTable } from '../chunker/fastcdc.ts';
import { AbortedError } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { encodeTree } from '../model/tree-encode.ts';
import type { Repository } from '../repository/repository.ts';
import { saveSnapshot } from '../repository/snapshots.ts';
import { BlobSaver } from './blob-saver.ts';
import type { BackupEvent } from './events.ts';
import { type SnapshotMeta, composeSnapshot } from './snapshot-meta.ts';

export interface StdinOptions extends SnapshotMeta {
  readonly filename: string;
  readonly input: Readable;
  readonly dryRun?: boolean;
  /** zstd level for this backup's new blobs (default: the repository's setting) */
  readonly compression?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: BackupEvent) => void;
}

type StdinRepo = Pick<Repository, 'config' | 'key' | 'sealer' | 'catalog' | 'savePack' | 'flushIndex' | 'saveFile'>;

/** `backup --stdin`: one file, read from a stream, chunked on the main thread. */
export async function saveStdin(repo: StdinRepo, o: StdinOptions): Promise<{ snapshot: Snapshot; id: string | undefined; errors: number }> {
  const start = Date.now();
  const saver = new BlobSaver(repo, { dryRun: !!o.dryRun, signal: o.signal, compression: o.compression });
  const chunker = createChunker(repo.config.chunker, deriveGearTable(repo.key.chunker));
  const max = repo.config.chunker.max;
  let buf = Buffer.allocUnsafe(max * 2);
  let end = 0;
  let size = 0;
  const content: string[] = [];
  let newFiles = 0;
  const drain = async (final: boolean): Promise<void> => {
    let start = 0;
    while (end - start >= max || (final && start < end)) {
      const n = chunker.cut(buf, start, end);
      content.push((await saver.save('data', Buffer.from(buf.subarray(start, start + n)))).id);
      start += n;
    }
    buf.copyWithin(0, start, end);
    end -= start;
  };
  for await (const chunk of o.input as AsyncIterable<Buffer>) {
    if (o.signal?.aborted) throw new AbortedError();
    if (end + chunk.length > buf.length) {
      const nb = Buffer.allocUnsafe(Math.max(buf.length, end + chunk.length) * 2);
      buf.copy(nb, 0, 0, end);
      buf = nb;
    }
    chunk.copy(buf, end);
    end += chunk.length;
    size += chunk.length;
    if (end >= max * 2) await drain(false);
  }
  await drain(true);
  newFiles++;
  const now = (BigInt(Date.now()) * 1_000_000n).toString();
  const node: Node = { name: o.filename, type: 'file', mode: 0o644, uid: o.uid, gid: o.gid, mtime: now, atime: now, ctime: now, size, content };
  if (o.username !== 'unknown') node.user = o.username;
  const tree = await saver.save('tree', encodeTree([node]));
  await saver.flush();
  if (!o.dryRun) await repo.flushIndex(o.signal);
  const summary = {
    backupStart: new Date(start).toISOString(),
    backupEnd: new Date().toISOString(),
    filesNew: newFiles,
    filesChanged: 0,
    filesUnmodified: 0,
    dirsNew: tree.isNew ? 1 : 0,
    dirsChanged: 0,
    dirsUnmodified: tree.isNew ? 0 : 1,
    ...saver.stats,
    totalFilesProcessed: 1,
    totalBytesProcessed: size,
  };
  const snapshot = composeSnapshot(o, tree.id, [`/${o.filename}`], summary);
  const id = o.dryRun ? undefined : await saveSnapshot(repo, snapshot, o.signal);
  o.onEvent?.({ type: 'summary', ...summary, ...(id ? { snapshotId: id } : {}), dryRun: !!o.dryRun, errors: 0 });
  return { snapshot, id, errors: 0 };
}
