/**
 * Partial backups (`BackupOptions.onlyChanged`, used by `pybackup watch`): only the directories named as changed,
 * and the directories above them, are walked; every other directory keeps the subtree id it has in the parent
 * snapshot, without being read. The result is still a complete snapshot: an unchanged directory's tree blob is the
 * parent's, byte for byte (trees are content-addressed), and the walk rebuilds the trees along the changed paths.
 *
 * A parent subtree is reused only when the directory's own stat still matches the parent's node (inode, mtime,
 * ctime, mode, owner): an entry added, removed or renamed in a directory changes its mtime, so a change notification
 * that was missed for that directory still leads to a walk. A file rewritten in place changes no directory's times:
 * that is what the change set (and the watcher's periodic full rescans) are for.
 */
import type { Node, Tree } from '../model/node.ts';
import { nodeNameBytes } from '../model/node.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { parseTree } from '../model/tree-parse.ts';
import type { Repository } from '../repository/repository.ts';

export interface OnlyChanged {
  /** the snapshot whose subtrees are reused; its paths must be this backup's paths */
  readonly parent: Pick<Snapshot, 'tree' | 'paths'>;
  /** absolute (recorded) paths of the directories whose entries changed; their ancestors are walked too */
  readonly dirs: ReadonlySet<string>;
}

type TreeRepo = Pick<Repository, 'loadBlob'>;
/** a directory's entries in the parent snapshot, by raw name (latin1 key) */
type Listing = Map<string, Node>;

/** parent directory listings kept in memory (a walk needs those of the directories it is in) */
const MAX_LISTINGS = 512;

const same = (a: string | undefined, b: string | undefined): boolean => a === undefined || b === undefined || a === b;

export class PartialWalk {
  readonly #repo: TreeRepo;
  readonly #root: string;
  readonly #signal: AbortSignal | undefined;
  /** changed directories and all their ancestors: these are always walked */
  readonly #walk = new Set<string>();
  readonly #listings = new Map<string, Promise<Listing | undefined>>();
  /** directories reused from the parent (for the summary) */
  reused = 0;

  constructor(repo: TreeRepo, o: OnlyChanged, signal?: AbortSignal) {
    this.#repo = repo;
    this.#root = o.parent.tree;
    this.#signal = signal;
    for (const d of o.dirs) {
      let p = d.length > 1 && d.endsWith('/') ? d.slice(0, -1) : d;
      while (!this.#walk.has(p)) {
        this.#walk.add(p);
        if (p === '/') break;
        const i = p.lastIndexOf('/');
        p = i <= 0 ? '/' : p.slice(0, i);
      }
    }
  }

  /** Whether the change set asks for `path` to be walked (it changed, or a changed directory lies below it). */
  mustWalk(path: string): boolean {
    return this.#walk.has(path);
  }

  /**
   * The parent's subtree id for the directory at recorded `path` when it can be taken as is; undefined when the
   * directory must be walked (on a changed path, new since the parent, or its stat differs from the parent's node).
   */
  async reuse(path: Buffer, node: Node): Promise<string | undefined> {
    const text = path.toString();
    // lossy names (not UTF-8) cannot be matched against the change set reliably: walk them
    if (text === '/' || text.includes('\uFFFD') || this.#walk.has(text)) return undefined;
    const slash = path.lastIndexOf(0x2f);
    if (slash < 0) return undefined;
    const listing = await this.#listing(slash === 0 ? '/' : text.slice(0, text.lastIndexOf('/')));
    const old = listing?.get(path.subarray(slash + 1).toString('latin1'));
    if (!old || old.type !== 'dir' || old.subtree === undefined) return undefined;
    const unchanged = old.mtime === node.mtime && old.ctime === node.ctime && old.mode === node.mode && old.uid === node.uid && old.gid === node.gid && same(old.inode, node.inode) && same(old.dev, node.dev);
    if (!unchanged) return undefined;
    this.reused++;
    return old.subtree;
  }

  /** The parent snapshot's entries of directory `dir` (absolute path), loaded along the path and cached. */
  #listing(dir: string): Promise<Listing | undefined> {
    let p = this.#listings.get(dir);
    if (p) {
      // least recently used last out: the walk is depth-first, so the directories it is in stay cached
      this.#listings.delete(dir);
    } else {
      p = this.#loadListing(dir);
      p.catch(() => {});
    }
    this.#listings.set(dir, p);
    if (this.#listings.size > MAX_LISTINGS) this.#listings.delete(this.#listings.keys().next().value as string);
    return p;
  }

  async #loadListing(dir: string): Promise<Listing | undefined> {
    if (dir === '/') return this.#load(this.#root);
    const i = dir.lastIndexOf('/');
    const up = await this.#listing(i <= 0 ? '/' : dir.slice(0, i));
    const n = up?.get(Buffer.from(dir.slice(i + 1)).toString('latin1'));
    return n?.type === 'dir' && n.subtree !== undefined ? await this.#load(n.subtree) : undefined;
  }

  async #load(id: string): Promise<Listing> {
    const t: Tree = parseTree(await this.#repo.loadBlob(Buffer.from(id, 'hex'), this.#signal), id);
    return new Map(t.nodes.map((n) => [nodeNameBytes(n).toString('latin1'), n]));
  }
}

/** Whether a parent can serve a partial backup of `paths` (the same set of source paths). */
export function parentFits(parent: Pick<Snapshot, 'paths'>, paths: readonly string[]): boolean {
  const a = [...parent.paths].sort();
  const b = [...paths].sort();
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** What `pybackup watch` asks of a backup: walk only `changedDirs` (undefined: everything), skip an unchanged one. */
export interface PartialBackup {
  readonly changedDirs?: ReadonlySet<string> | undefined;
  readonly skipIfUnchanged?: boolean;
}

/** The archiver options for a PartialBackup, given the parent chosen for `paths` (none fits: a full walk). */
export function partialOptions(p: PartialBackup | undefined, parent: (Pick<Snapshot, 'tree' | 'paths'>) | undefined, paths: readonly string[]): { onlyChanged?: OnlyChanged; skipIfUnchanged?: boolean } {
  if (!p) return {};
  return {
    ...(p.changedDirs && parent && parentFits(parent, paths) ? { onlyChanged: { parent, dirs: p.changedDirs } } : {}),
    ...(p.skipIfUnchanged ? { skipIfUnchanged: true } : {}),
  };
}
