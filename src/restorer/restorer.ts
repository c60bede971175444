import { type BigIntStats, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { AbortedError, errnoCode, InvalidInputError } from '../errors.ts';
import { type Node, type Tree, linkTargetBytes } from '../model/node.ts';
import { mknod, mkfifo } from '../platform/libc.ts';
import type { Repository } from '../repository/repository.ts';
import type { RestoreEvent } from './events.ts';
import { applyMetadata, createMode } from './metadata.ts';
import type { PathFilter } from './path-filter.ts';
import { safeNameBytes } from './safe-name.ts';
import { loadTree } from './tree-loader.ts';
import { ContentWriter, type FileTask } from './content-writer.ts';
import { verifyFiles } from './verify.ts';

export type OverwriteMode = 'always' | 'if-changed' | 'if-newer' | 'never';

export interface RestoreOptions {
  readonly target: string;
  readonly filter: PathFilter;
  readonly overwrite: OverwriteMode;
  readonly delete: boolean;
  readonly verify: boolean;
  readonly sparse: boolean;
  readonly dryRun: boolean;
  readonly owner?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: RestoreEvent) => void;
}

interface DirEntry {
  readonly abs: Buffer;
  readonly node: Node | undefined;
  readonly parent: DirEntry | undefined;
  created: boolean;
  /** created by this restore (so it had no entries: no need to look for existing files in it) */
  fresh: boolean;
  /** names restored into it (for --delete) */
  readonly names: Set<string>;
  selectedAll: boolean;
}

type RestoreRepo = Pick<Repository, 'loadBlob' | 'catalog' | 'backend' | 'key'>;

const SLASH = Buffer.from('/');
/** Tree reads in flight while planning a restore. */
const TREE_LOADS = 32;
/** Subtrees of one directory loaded ahead of the walk. */
const TREE_AHEAD = 16;
/** A batch of files to write goes out at this many files or bytes. */
const BATCH_FILES = 2048;
const BATCH_BYTES = 64 << 20;

/**
 * Restores a tree into a target directory. Nothing is ever written outside the target: names are validated, an
 * existing symlink where a directory or file goes is replaced (never followed), and files open with O_NOFOLLOW.
 */
export class Restorer {
  readonly #repo: RestoreRepo;
  readonly #o: RestoreOptions;
  /** file tasks, kept only for --verify (a big restore would otherwise hold every file's node until the end) */
  readonly #files: FileTask[] = [];
  #fileCount = 0;
  #fileBytes = 0;
  #failedFiles = 0;

  #addFile(task: FileTask): void {
    this.#fileCount++;
    this.#fileBytes += task.size;
    if (this.#o.verify && !this.#o.dryRun) this.#files.push(task);
  }
  readonly #dirs: DirEntry[] = [];
  readonly #links: { path: Buffer; node: Node; first: FileTask }[] = [];
  readonly #others: { path: Buffer; node: Node }[] = [];
  readonly #inodes = new Map<string, FileTask>();
  readonly #start = Date.now();
  #errors = 0;
  /** the user's umask: the target directory itself (and missing parents) are made as a plain mkdir would */
  #userUmask = 0o022;
  #skipped = 0;
  #deleted = 0;

  constructor(repo: RestoreRepo, o: RestoreOptions) {
    this.#repo = repo;
    this.#o = o;
  }

  #warn(path: Buffer | string, e: unknown): void {
    this.#errors++;
    this.#o.onEvent?.({ type: 'warning', path: path.toString(), message: e instanceof Error ? e.message : String(e) });
  }

  /** `root` is the directory node whose contents are restored (or a single non-directory node). */
  async run(root: { treeId: string; snapshotPath: string } | { node: Node; snapshotPath: string }): Promise<RestoreEvent & { type: 'summary' }> {
    // umask 0 while restoring: files and directories get exactly the modes they are created with (see createMode)
    const oldMask = this.#o.dryRun ? undefined : process.umask(0);
    this.#userUmask = oldMask ?? 0o022;
    try {
      return await this.#run(root);
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
  }

  async #run(root: { treeId: string; snapshotPath: string } | { node: Node; snapshotPath: string }): Promise<RestoreEvent & { type: 'summary' }> {
    const o = this.#o;
    const top: DirEntry = { abs: Buffer.from(o.target.replace(/\/+$/, '') || '/'), node: undefined, parent: undefined, created: false, fresh: false, names: new Set(), selectedAll: !o.filter.hasIncludes };
    if (!o.dryRun) {
      try {
        top.fresh = lstatOrUndefined(top.abs) === undefined;
        mkdirSync(top.abs, { recursive: true, mode: 0o777 & ~this.#userUmask });
      } catch (e) {
        throw new InvalidInputError(`cannot create target directory ${o.target}: ${(e as Error).message}`, { cause: e });
      }
      top.created = true;
    }
    const done = { files: 0, bytes: 0 };
    const progress = o.dryRun
      ? undefined
      : setInterval(() => {
          o.onEvent?.({ type: 'progress', elapsedMs: Date.now() - this.#start, filesDone: done.files, filesTotal: this.#fileCount, bytesDone: done.bytes, bytesTotal: this.#fileBytes });
        }, 250);
    if (!o.dryRun) {
      this.#writer = new ContentWriter(this.#repo, {
        sparse: o.sparse,
        ...(o.signal ? { signal: o.signal } : {}),
        onFileDone: (f) => {
          done.files++;
          const created = { mode: createMode(f.node), ownedByUs: f.freshDir };
          for (const w of applyMetadata(f.path, f.node, { owner: o.owner ?? true, xattrs: true, created, timesSet: f.timesSet === true })) this.#warn(f.path, w);
        },
        onBytes: (n) => (done.bytes += n),
        onError: (f, e) => {
          this.#failedFiles++;
          this.#warn(f.path, e);
        },
      });
    }
    let bytesWritten = 0;
    try {
      if ('treeId' in root) await this.#walk(root.treeId, root.snapshotPath, top, !o.filter.hasIncludes);
      else this.#entry(root.node, top, root.snapshotPath.replace(/\/[^/]*$/, '') || '', !o.filter.hasIncludes);
      this.#dispatch();
      await Promise.all(this.#writes.splice(0));
      bytesWritten = this.#writer?.written ?? 0;
    } finally {
      if (progress) clearInterval(progress);
      await this.#writer?.close();
    }
    const bytesTotal = this.#fileBytes;
    if (!o.dryRun) {
      for (const l of this.#links) {
        try {
          replaceExisting(l.path);
          linkSync(l.first.path, l.path);
        } catch (e) {
          this.#warn(l.path, e);
        }
      }
      for (const x of this.#others) for (const w of applyMetadata(x.path, x.node, { owner: o.owner ?? true, xattrs: true })) this.#warn(x.path, w);
      if (o.delete) this.#deleteExtra();
      for (let i = this.#dirs.length - 1; i >= 0; i--) {
        const d = this.#dirs[i] as DirEntry;
        if (d.created && d.node) for (const w of applyMetadata(d.abs, d.node, { owner: o.owner ?? true, xattrs: true })) this.#warn(d.abs, w);
      }
    }
    let verified: { files: number; failures: number } | undefined;
    if (o.verify && !o.dryRun) {
      verified = await verifyFiles(this.#repo, this.#files.filter((f) => !f.failed), {
        ...(o.signal ? { signal: o.signal } : {}),
        onMismatch: (f, why) => this.#warn(f.path, `verification failed: ${why}`),
      });
    }
    const summary = {
      type: 'summary' as const,
      elapsedMs: Date.now() - this.#start,
      filesRestored: this.#fileCount - this.#failedFiles + this.#links.length,
      filesSkipped: this.#skipped,
      dirs: this.#dirs.length,
      bytesWritten,
      bytesTotal,
      deleted: this.#deleted,
      errors: this.#errors + (verified?.failures ?? 0),
      dryRun: o.dryRun,
      ...(verified ? { verified: verified.files, verifyFailures: verified.failures } : {}),
    };
    o.onEvent?.(summary);
    return summary;
  }

  async #walk(treeId: string, snapPath: string, dir: DirEntry, selected: boolean, loading?: Promise<Tree>): Promise<void> {
    if (this.#o.signal?.aborted) throw new AbortedError();
    let tree;
    try {
      tree = await (loading ?? this.#loadTree(treeId));
    } catch (e) {
      if (e instanceof AbortedError) throw e;
      this.#warn(dir.abs, e);
      return;
    }
    // Subtrees load ahead (bounded), so the walk does not wait for one read at a time.
    // The next few subtrees load ahead (a sliding window, so a directory of many subdirectories is not held in
    // memory at once), and the walk does not wait for one read at a time.
    // (excluded directories are never walked, so their subtrees are not read ahead either)
    const subtrees = tree.nodes
      .filter((n) => n.type === 'dir' && typeof n.subtree === 'string' && !this.#o.filter.excluded(`${snapPath}/${n.name}`))
      .map((n) => n.subtree as string);
    const ahead = new Map<string, Promise<Tree>>();
    let next = 0;
    const fill = (): void => {
      for (; next < subtrees.length && ahead.size < TREE_AHEAD; next++) {
        const id = subtrees[next] as string;
        if (ahead.has(id)) continue;
        const p = this.#loadTree(id);
        p.catch(() => {});
        ahead.set(id, p);
      }
    };
    fill();
    const seen = new Set<string>();
    for (const node of tree.nodes) {
      const sub = this.#entry(node, dir, snapPath, selected, seen);
      // at most two batches being written while the walk continues
      if (this.#writes.length > 2) await this.#writes.shift();
      if (node.type === 'dir' && typeof node.subtree === 'string') {
        const loading = ahead.get(node.subtree);
        ahead.delete(node.subtree);
        fill();
        if (sub) await this.#walk(sub.treeId, sub.snapPath, sub.dir, sub.selected, loading);
      } else if (sub) await this.#walk(sub.treeId, sub.snapPath, sub.dir, sub.selected);
    }
  }

  #writer: ContentWriter | undefined;
  #batch: FileTask[] = [];
  #batchBytes = 0;
  readonly #writes: Promise<void>[] = [];

  /** Files are written in batches while the walk goes on (see ContentWriter). */
  #queue(task: FileTask): void {
    if (!this.#writer) return;
    this.#batch.push(task);
    this.#batchBytes += task.size;
    if (this.#batch.length >= BATCH_FILES || this.#batchBytes >= BATCH_BYTES) this.#dispatch();
  }

  #dispatch(): void {
    if (!this.#writer || this.#batch.length === 0) return;
    const p = this.#writer.write(this.#batch);
    p.catch(() => {});
    this.#writes.push(p);
    this.#batch = [];
    this.#batchBytes = 0;
  }

  #treeLoads = 0;
  readonly #treeQueue: (() => void)[] = [];

  /** loadTree with at most TREE_LOADS reads in flight. */
  async #loadTree(id: string): Promise<Tree> {
    if (this.#treeLoads >= TREE_LOADS) await new Promise<void>((r) => this.#treeQueue.push(r));
    this.#treeLoads++;
    try {
      return await loadTree(this.#repo, id, this.#o.signal);
    } finally {
      this.#treeLoads--;
      this.#treeQueue.shift()?.();
    }
  }

  /** Plans one node; returns the subdirectory to descend into, if any. */
  #entry(node: Node, dir: DirEntry, snapPath: string, parentSelected: boolean, seen?: Set<string>): { treeId: string; snapPath: string; dir: DirEntry; selected: boolean } | undefined {
    const o = this.#o;
    let name: Buffer;
    try {
      name = safeNameBytes(node);
    } catch (e) {
      this.#warn(Buffer.concat([dir.abs, SLASH, Buffer.from(node.name ?? '')]), e);
      return undefined;
    }
    const key = name.toString('latin1');
    if (seen) {
      if (seen.has(key)) {
        this.#warn(Buffer.concat([dir.abs, SLASH, name]), 'duplicate name in snapshot tree; skipped');
        return undefined;
      }
      seen.add(key);
    }
    const path = Buffer.concat([dir.abs, SLASH, name]);
    const sp = `${snapPath}/${node.name}`;
    if (o.filter.excluded(sp)) return undefined;
    const selected = parentSelected || o.filter.included(sp);
    if (node.type === 'dir') {
      const d: DirEntry = { abs: path, node, parent: dir, created: false, fresh: false, names: new Set(), selectedAll: selected };
      if (selected) {
        if (o.delete) dir.names.add(key);
        if (!this.#ensureDir(d)) return undefined;
      }
      return node.subtree ? { treeId: node.subtree, snapPath: sp, dir: d, selected } : undefined;
    }
    if (!selected) return undefined;
    if (o.delete) dir.names.add(key);
    if (!this.#ensureDir(dir)) return undefined;
    const existing = dir.fresh ? undefined : lstatOrUndefined(path);
    if (existing && this.#skipExisting(existing, node, path)) {
      this.#skipped++;
      return undefined;
    }
    if (o.dryRun) {
      if (node.type === 'file') this.#addFile({ path, node, size: node.size ?? 0, content: node.content ?? [], failed: false, existing: !!existing, freshDir: dir.fresh });
      return undefined;
    }
    try {
      if (node.type === 'file') {
        const ikey = node.links && node.links > 1 && node.inode ? `${node.dev}:${node.inode}` : undefined;
        const first = ikey ? this.#inodes.get(ikey) : undefined;
        if (first) {
          this.#links.push({ path, node, first });
          return undefined;
        }
        if (existing?.isDirectory()) rmSync(path, { recursive: true });
        const task: FileTask = { path, node, size: node.size ?? 0, content: node.content ?? [], failed: false, existing: !!existing, freshDir: dir.fresh };
        this.#addFile(task);
        this.#queue(task);
        if (ikey) this.#inodes.set(ikey, task);
        return undefined;
      }
      replaceExisting(path, existing);
      if (node.type === 'symlink') symlinkSync(linkTargetBytes(node), path);
      else if (node.type === 'fifo') mkfifo(path, node.mode & 0o7777);
      else if (node.type === 'chardev' || node.type === 'blockdev') {
        const rdev = BigInt(node.rdev ?? '0');
        mknod(path, (node.type === 'chardev' ? 0o020000 : 0o060000) | (node.mode & 0o7777), rdev);
      } else if (node.type === 'socket') return undefined; // sockets are not restorable; restic skips them too
      this.#others.push({ path, node });
    } catch (e) {
      this.#warn(path, e);
    }
    return undefined;
  }

  /** --overwrite for an entry already in the target (any type: "never" must not replace a directory by a symlink). */
  #skipExisting(st: BigIntStats, node: Node, path: Buffer): boolean {
    switch (this.#o.overwrite) {
      case 'never':
        return true;
      case 'if-newer':
        return st.mtimeNs >= BigInt(node.mtime);
      case 'if-changed':
        if (node.type === 'symlink') return st.isSymbolicLink() && readlinkSync(path, { encoding: 'buffer' }).equals(linkTargetBytes(node));
        return node.type === 'file' && st.isFile() && Number(st.size) === (node.size ?? 0) && st.mtimeNs === BigInt(node.mtime);
      default:
        return false;
    }
  }

  /** Creates a directory (and its parents) once; replaces a non-directory in its way. False on failure. */
  #ensureDir(d: DirEntry): boolean {
    if (d.created) return true;
    if (d.parent && !this.#ensureDir(d.parent)) return false;
    this.#dirs.push(d);
    if (this.#o.dryRun) {
      d.created = true;
      return true;
    }
    try {
      const st = d.parent?.fresh ? undefined : lstatOrUndefined(d.abs);
      if (st && !st.isDirectory()) {
        unlinkSync(d.abs);
      }
      if (!st || !st.isDirectory()) {
        mkdirSync(d.abs, { mode: 0o700 });
        d.fresh = true;
      }
      d.created = true;
      return true;
    } catch (e) {
      this.#warn(d.abs, e);
      return false;
    }
  }

  #deleteExtra(): void {
    for (const d of this.#dirs.filter((x) => x.selectedAll && x.created)) {
      let names: Buffer[];
      try {
        names = readdirSync(d.abs, { encoding: 'buffer' });
      } catch {
        continue;
      }
      for (const n of names) {
        if (d.names.has(n.toString('latin1'))) continue;
        try {
          rmSync(Buffer.concat([d.abs, SLASH, n]), { recursive: true, force: true });
          this.#deleted++;
        } catch (e) {
          this.#warn(Buffer.concat([d.abs, SLASH, n]), e);
        }
      }
    }
  }
}

function lstatOrUndefined(p: Buffer): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if (errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Removes whatever is at `p` (never following a symlink) so a new entry can be made there. */
function replaceExisting(p: Buffer, st = lstatOrUndefined(p)): void {
  if (!st) return;
  if (st.isDirectory()) rmSync(p, { recursive: true });
  else unlinkSync(p);
}
