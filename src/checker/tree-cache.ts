import type { Node, Tree } from '../model/node.ts';

/** What the tree walk and the damage mapping need of a tree: names, types and references, no metadata. */
export interface TreeRefs {
  readonly nodes: readonly Pick<Node, 'name' | 'type' | 'content' | 'subtree'>[];
}

/** A validated tree reduced to the nodes that reference blobs, as JSON bytes (a fraction of the tree's size). */
export function encodeTreeRefs(t: Tree): Buffer {
  const nodes: Pick<Node, 'name' | 'type' | 'content' | 'subtree'>[] = [];
  for (const n of t.nodes) {
    if (n.type === 'file' && n.content && n.content.length > 0) nodes.push({ name: n.name, type: 'file', content: n.content });
    else if (n.type === 'dir' && n.subtree) nodes.push({ name: n.name, type: 'dir', subtree: n.subtree });
  }
  return Buffer.from(JSON.stringify({ nodes }));
}

export function decodeTreeRefs(b: Buffer): TreeRefs {
  return JSON.parse(b.toString('utf8')) as TreeRefs;
}

/**
 * Trees that read-data workers already decrypted, verified and validated, as encoded TreeRefs, kept (up to a byte
 * budget) until the tree walk takes them, so that `check --read-data` reads, decrypts and parses every tree once.
 * Each entry is taken once.
 */
export class TreeCache {
  readonly #budget: number;
  readonly #trees = new Map<string, Buffer>();
  #bytes = 0;

  constructor(budget: number) {
    this.#budget = budget;
  }

  get full(): boolean {
    return this.#bytes >= this.#budget;
  }

  /** Keeps `plain` unless the budget is spent (the walk then reads that tree from the repository). */
  add(id: string, plain: Buffer): void {
    if (this.#bytes + plain.length > this.#budget || this.#trees.has(id)) return;
    this.#trees.set(id, plain);
    this.#bytes += plain.length;
  }

  take(id: string): Buffer | undefined {
    const b = this.#trees.get(id);
    if (b) {
      this.#trees.delete(id);
      this.#bytes -= b.length;
    }
    return b;
  }

  clear(): void {
    this.#trees.clear();
    this.#bytes = 0;
  }
}
