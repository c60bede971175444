import { throwIfAborted } from '../errors.ts';
import { type Node, type Tree, nodeNameBytes } from '../model/node.ts';
import type { TreeStore } from './tree-store.ts';

/** One listed node and the raw path parts of its directory (shared by its siblings: do not modify). */
export interface Listed {
  readonly node: Node;
  readonly parent: readonly Buffer[];
}

/** The full raw path parts of a listed node. */
export function partsOf(l: Listed): Buffer[] {
  return [...l.parent, nodeNameBytes(l.node)];
}

/** The nodes of directory tree `treeId`, sorted by raw name bytes as stored. */
export async function listDir(store: TreeStore, treeId: string, signal?: AbortSignal): Promise<readonly Node[]> {
  return (await store.tree(treeId, signal)).nodes;
}

export interface WalkOptions {
  readonly recursive: boolean;
  readonly signal?: AbortSignal | undefined;
  /** subdirectory trees loaded ahead per level (default 4) */
  readonly prefetch?: number;
}

/**
 * Every node under `treeId`, depth first, each directory before its contents (as `ls -R` and restic's ls order them).
 * Trees are not cached (each is read once) and the next few subdirectories of each level are loaded ahead, so the
 * walk does not wait on the repository for every directory; memory follows depth × prefetch, not the size.
 */
export async function* walk(store: TreeStore, treeId: string, prefix: readonly Buffer[], o: WalkOptions): AsyncGenerator<Listed> {
  const window = Math.max(1, o.prefetch ?? 4);
  // an explicit stack, not nested generators: each yield then costs one resumption, not one per level
  const stack = [new Frame(store, (await store.tree(treeId, o.signal, { cache: false })).nodes, prefix, o.recursive, window, o.signal)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame;
    const node = f.nodes[f.i++];
    if (node === undefined) {
      stack.pop();
      continue;
    }
    yield { node, parent: f.parent };
    if (!o.recursive || node.type !== 'dir' || !node.subtree) continue;
    throwIfAborted(o.signal);
    const sub = await f.nextSubtree();
    stack.push(new Frame(store, sub.nodes, [...f.parent, nodeNameBytes(node)], true, window, o.signal));
  }
}

/** One directory level of a walk: its nodes, the position, and the subdirectory trees being loaded ahead. */
class Frame {
  readonly nodes: readonly Node[];
  readonly parent: readonly Buffer[];
  i = 0;
  readonly #store: TreeStore;
  readonly #dirs: readonly Node[];
  readonly #pending: (Promise<Tree> | undefined)[] = [];
  readonly #window: number;
  readonly #signal: AbortSignal | undefined;
  #started = 0;
  #used = 0;

  constructor(store: TreeStore, nodes: readonly Node[], parent: readonly Buffer[], recursive: boolean, window: number, signal: AbortSignal | undefined) {
    this.#store = store;
    this.nodes = nodes;
    this.parent = parent;
    this.#dirs = recursive ? nodes.filter((n) => n.type === 'dir' && n.subtree) : [];
    this.#window = window;
    this.#signal = signal;
    this.#startMore();
  }

  #startMore(): void {
    while (this.#started < this.#dirs.length && this.#started - this.#used < this.#window) {
      const p = this.#store.tree((this.#dirs[this.#started] as Node).subtree as string, this.#signal, { cache: false });
      p.catch(() => {}); // reported when its turn comes
      this.#pending.push(p);
      this.#started++;
    }
  }

  /** The tree of the next subdirectory, in node order. */
  async nextSubtree(): Promise<Tree> {
    const p = this.#pending[this.#used] as Promise<Tree>;
    this.#pending[this.#used++] = undefined;
    this.#startMore();
    return await p;
  }
}
