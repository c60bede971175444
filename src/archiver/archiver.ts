import { type BigIntStats, lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { AbortedError, errnoCode, throwIfAborted } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { encodeTree } from '../model/tree-encode.ts';
import type { Repository } from '../repository/repository.ts';
import { saveSnapshot } from '../repository/snapshots.ts';
import { BlobSaver } from './blob-saver.ts';
import { readDirNames } from './dir-names.ts';
import { estimate } from './estimator.ts';
import { FileBatcher } from './file-batcher.ts';
import { filesCacheLookup } from './files-cache-hit.ts';
import type { BackupEvent } from './events.ts';
import type { DirRules, ExcludeMatcher } from './excludes.ts';
import { nodeFromStat } from './node-from-stat.ts';
import { type OnlyChanged, PartialWalk } from './partial-walk.ts';
import type { PathMap } from './path-map.ts';
import { type SnapshotMeta, composeSnapshot } from './snapshot-meta.ts';
import { type PendingNode, RootBuilder, settle } from './root-builder.ts';
import { cleanSpool, removeSpool, spoolPrefix } from '../repository/pack-spool.ts';
import { WorkerPool } from './worker-pool.ts';
import type { FileResult } from './worker-protocol.ts';

export interface BackupOptions extends SnapshotMeta {
  /** absolute, normalized source paths */
  readonly paths: readonly string[];
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly excludes?: ExcludeMatcher;
  readonly excludeList?: readonly string[];
  readonly oneFileSystem?: boolean;
  readonly xattrs?: boolean;
  readonly workers?: number;
  /** count files and bytes beside the backup so progress has totals (costs a second walk) */
  readonly estimate?: boolean;
  /** `paths` are recorded paths; this says where to read them (--as-path, snapshot mounts; see path-map.ts) */
  readonly pathMap?: PathMap;
  /** zstd level for this backup's new blobs (default: the repository's setting) */
  readonly compression?: number;
  /** walk only the changed directories; the others keep the parent's subtrees (partial-walk.ts; `pybackup watch`) */
  readonly onlyChanged?: OnlyChanged;
  /** save no snapshot when the root tree equals the parent's (restic's --skip-if-unchanged) */
  readonly skipIfUnchanged?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: BackupEvent) => void;
}


type ArchRepo = Pick<Repository, 'config' | 'key' | 'sealer' | 'catalog' | 'savePack' | 'flushIndex' | 'saveFile' | 'backend' | 'spoolDir' | 'indexListener' | 'loadBlob'>;

/** Backs up directory trees into a new snapshot (write order: packs -> index -> snapshot). */
export class Archiver {
  readonly #repo: ArchRepo;
  readonly #o: BackupOptions;
  readonly #pool: WorkerPool;
  readonly #saver: BlobSaver;
  readonly #spoolDir: string;
  /** this run's spool file prefix: what an abort leaves there is removed in run()'s finally */
  readonly #spoolPrefix = spoolPrefix();
  readonly #files: FileBatcher;
  readonly #start = Date.now();
  #totals: { files: number; bytes: number; done: boolean } | undefined;
  /** no files-cache entries at all (first backup into this catalog): skip the lookups */
  readonly #noFilesCache: boolean;
  /** the exclude rules, when any rule is active */
  readonly #excludes: ExcludeMatcher | undefined;
  readonly #partial: PartialWalk | undefined;
  readonly #stats = {
    filesNew: 0, filesChanged: 0, filesUnmodified: 0, dirsNew: 0, dirsChanged: 0, dirsUnmodified: 0,
    totalFilesProcessed: 0, totalBytesProcessed: 0, dataAdded: 0, errors: 0, dirsDone: 0,
  };

  constructor(repo: ArchRepo, o: BackupOptions) {
    this.#repo = repo;
    this.#o = o;
    this.#saver = new BlobSaver(repo, { dryRun: !!o.dryRun, signal: o.signal, compression: o.compression });
    this.#spoolDir = repo.spoolDir;
    cleanSpool(this.#spoolDir);
    this.#noFilesCache = !repo.catalog.hasAnyFile();
    this.#excludes = o.excludes && !o.excludes.empty ? o.excludes : undefined;
    this.#partial = o.onlyChanged ? new PartialWalk(repo, o.onlyChanged, o.signal) : undefined;
    const n = o.workers ?? Math.max(1, Math.min(availableParallelism(), 8));
    this.#pool = new WorkerPool(
      n,
      {
        encKey: repo.key.encrypt,
        idKey: repo.key.id,
        chunkerKey: repo.key.chunker,
        chunker: repo.config.chunker,
        compression: o.compression ?? repo.config.compression,
        packSize: repo.config.packSize,
        catalogPath: repo.catalog.path,
        catalogEmpty: !repo.catalog.hasAnyBlob(),
        spoolDir: this.#spoolDir,
        spoolPrefix: this.#spoolPrefix,
        xattrs: o.xattrs ?? true,
      },
      async (p) => {
        const ids = Buffer.from(p.ids.buffer, p.ids.byteOffset, p.ids.byteLength);
        let offset = 0;
        const blobs = p.types.map((type, i) => {
          const length = p.lengths[i] as number;
          const b = { id: ids.subarray(i * 32, i * 32 + 32), type, offset, length, rawLength: p.rawLengths[i] as number };
          offset += length;
          return b;
        });
        await this.#saver.store({ id: p.id, path: p.path, size: p.size, blobs });
      },
      (bytes) => {
        this.#stats.totalBytesProcessed += bytes;
      },
    );
    this.#files = new FileBatcher(this.#pool, (node, path, st, r) => this.#fileDone(node, path, st, r), o.signal);
  }

  async run(): Promise<{ snapshot: Snapshot; id: string | undefined; errors: number }> {
    const o = this.#o;
    const timer = setInterval(() => this.#progress(), 250);
    const estimating = new AbortController();
    if (o.estimate) {
      void estimate(o.paths, o.excludes, { signal: estimating.signal, pathMap: o.pathMap, onTotals: (files, bytes, done) => (this.#totals = { files, bytes, done }) }).catch(() => {});
    }
    this.#repo.indexListener = (packs) => this.#pool.indexed(packs);
    if (!o.dryRun) this.#repo.catalog.beginSession();
    try {
      const m = this.#excludes;
      // A source itself can be excluded (restic: `backup /home/ann/src --exclude src` saves nothing of it).
      const map = o.pathMap && !o.pathMap.empty ? o.pathMap : undefined;
      const root = new RootBuilder(
        async (p, st, name) =>
          m?.isExcluded(m.rootRules(), p, name, st.isDirectory(), Number(st.size)) ? undefined : await this.#scan(p, st, name, undefined, undefined, map?.realBytes(p)),
        map,
      );
      for (const p of o.paths) root.add(p);
      const rootId = await root.build((nodes) => this.#saveTree(nodes), (path, e) => this.#warn(path, e, 'unreadable'));
      throwIfAborted(o.signal);
      await this.#pool.flush();
      await this.#saver.flush();
      if (!o.dryRun) await this.#repo.flushIndex(o.signal);
      const snapshot = composeSnapshot(
        o,
        rootId,
        o.paths,
        {
          backupStart: new Date(this.#start).toISOString(),
          backupEnd: new Date().toISOString(),
          filesNew: this.#stats.filesNew,
          filesChanged: this.#stats.filesChanged,
          filesUnmodified: this.#stats.filesUnmodified,
          dirsNew: this.#stats.dirsNew,
          dirsChanged: this.#stats.dirsChanged,
          dirsUnmodified: this.#stats.dirsUnmodified,
          dataBlobs: this.#saver.stats.dataBlobs,
          treeBlobs: this.#saver.stats.treeBlobs,
          dataAdded: this.#stats.dataAdded + this.#saver.stats.dataAdded,
          dataAddedPacked: this.#saver.stats.dataAddedPacked,
          totalFilesProcessed: this.#stats.totalFilesProcessed,
          totalBytesProcessed: this.#stats.totalBytesProcessed,
        },
        o.excludeList,
      );
      const id = o.dryRun || (o.skipIfUnchanged && o.parent?.tree === rootId) ? undefined : await saveSnapshot(this.#repo, snapshot, o.signal);
      // everything stored is indexed and the snapshot saved: this session's files-cache rows can be trusted
      if (!o.dryRun) this.#repo.catalog.endSession();
      o.onEvent?.({ type: 'summary', ...snapshot.summary!, ...(id ? { snapshotId: id } : {}), dryRun: !!o.dryRun, errors: this.#stats.errors });
      return { snapshot, id, errors: this.#stats.errors };
    } finally {
      estimating.abort();
      clearInterval(timer);
      this.#repo.indexListener = undefined;
      await this.#pool.close();
      removeSpool(this.#spoolDir, this.#spoolPrefix);
    }
  }

  #progress(): void {
    const s = this.#stats;
    this.#o.onEvent?.({
      type: 'progress',
      elapsedMs: Date.now() - this.#start,
      filesDone: s.totalFilesProcessed,
      dirsDone: s.dirsDone,
      bytesDone: s.totalBytesProcessed,
      errors: s.errors,
      current: [...this.#files.current].slice(0, 2),
      ...(this.#totals?.done ? { filesTotal: Math.max(this.#totals.files, s.totalFilesProcessed), bytesTotal: Math.max(this.#totals.bytes, s.totalBytesProcessed) } : {}),
    });
  }

  #warn(path: Buffer | string, e: unknown, kind: 'unreadable' | 'changed' | 'vanished' | 'other'): void {
    if (kind === 'unreadable') this.#stats.errors++;
    const message = e instanceof Error ? e.message : String(e);
    this.#o.onEvent?.({ type: 'warning', path: path.toString(), message, kind });
  }

  /** Serializes a directory's nodes into a tree blob; returns its id. */
  async #saveTree(nodes: Node[]): Promise<string> {
    this.#stats.dirsDone++;
    const r = await this.#saver.save('tree', encodeTree(nodes));
    if (r.isNew) this.#stats.dirsNew++;
    else this.#stats.dirsUnmodified++;
    return r.id;
  }

  /**
   * Turns one filesystem entry into a pending node (directories recurse). Returns undefined when excluded.
   * `path` is the recorded path (tree, excludes, files cache); `fsPath` is where it is read, when that differs.
   */
  async #scan(path: Buffer, st: BigIntStats, name: Buffer, rules?: DirRules, rootDev?: bigint, fsPath: Buffer = path): Promise<PendingNode | undefined> {
    const o = this.#o;
    let node: Node;
    try {
      // A regular file's xattrs come from the files cache when its ctime (which xattr changes bump) is unchanged.
      node = nodeFromStat(name, fsPath, st, { xattrs: (o.xattrs ?? true) && !st.isFile() });
    } catch (e) {
      this.#warn(path, e, errnoCode(e) === 'ENOENT' ? 'vanished' : 'unreadable');
      return undefined;
    }
    if (node.type === 'file') return this.#fileNode(node, path, st, fsPath);
    if (node.type !== 'dir') {
      this.#stats.totalFilesProcessed++;
      return node;
    }
    const dev = rootDev ?? st.dev;
    if (o.oneFileSystem && st.dev !== dev) {
      node.subtree = await this.#saveTree([]);
      return node;
    }
    const reused = await this.#partial?.reuse(path, node);
    if (reused !== undefined) {
      node.subtree = reused;
      this.#stats.dirsUnmodified++;
      return node;
    }
    let names: Buffer[];
    try {
      names = readDirNames(fsPath);
    } catch (e) {
      this.#warn(path, e, 'unreadable');
      names = [];
    }
    const m = this.#excludes;
    const childRules = m ? await m.enterDir(path, names, rules ?? m.rootRules(), fsPath) : undefined;
    const children: PendingNode[] = [];
    let i = 0;
    for (const child of names) {
      if (o.signal?.aborted) throw new AbortedError();
      const cp = Buffer.concat([path, SLASH, child]);
      const fcp = fsPath === path ? cp : Buffer.concat([fsPath, SLASH, child]);
      let cst: BigIntStats | undefined;
      try {
        cst = lstatSync(fcp, { bigint: true, throwIfNoEntry: false });
      } catch (e) {
        this.#warn(cp, e, 'unreadable');
        continue;
      }
      if (!cst) continue;
      if (m && childRules && m.isExcluded(childRules, cp, child, cst.isDirectory(), Number(cst.size))) continue;
      const pn = await this.#scan(cp, cst, child, childRules, dev, fcp);
      if (pn) children.push(pn);
      if (++i % 512 === 0) await yieldNow();
    }
    const all = Promise.all(children.map(settle)).then(async (nodes) => {
      node.subtree = await this.#saveTree(nodes.filter((n): n is Node => n !== undefined));
      return node;
    });
    all.catch(() => {});
    return { wait: all };
  }

  async #fileNode(node: Node, path: Buffer, st: BigIntStats, fsPath: Buffer): Promise<PendingNode | undefined> {
    const o = this.#o;
    const cat = this.#repo.catalog;
    const found = o.force || this.#noFilesCache ? 'new' : filesCacheLookup(cat, node, path, st, { xattrs: o.xattrs ?? true, fsPath });
    if (found === 'hit') {
      this.#stats.filesUnmodified++;
      this.#stats.totalFilesProcessed++;
      this.#stats.totalBytesProcessed += Number(st.size);
      return node;
    }
    if (found === 'changed') this.#stats.filesChanged++;
    else this.#stats.filesNew++;
    // the file worker reads the xattrs from the descriptor it reads the content from
    return await this.#files.add(node, path, st, fsPath);
  }

  #fileDone(node: Node, path: Buffer, st: BigIntStats, r: FileResult): Node | undefined {
    this.#stats.totalFilesProcessed++;
    if (r.error) {
      this.#warn(path, new Error(r.error), r.errorCode === 'ENOENT' ? 'vanished' : 'unreadable');
      return undefined;
    }
    this.#stats.dataAdded += r.newBytes;
    const content = Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength);
    const ids: string[] = [];
    for (let p = 0; p < content.length; p += 32) ids.push(content.toString('hex', p, p + 32));
    node.content = ids;
    node.size = r.size;
    if (r.xattrs) node.xattrs = r.xattrs;
    if (r.changed) {
      this.#warn(path, new Error('file changed while it was read; the snapshot holds what was read'), 'changed');
    } else if (!this.#o.dryRun) {
      const xattrs = node.xattrs ? JSON.stringify(node.xattrs) : undefined;
      this.#repo.catalog.putFile(path, { size: r.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: BigInt.asIntN(64, st.ino), content, xattrs });
    }
    return node;
  }
}

const SLASH = Buffer.from('/');
