import { type BigIntStats, lstatSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidInputError, errnoCode } from '../errors.ts';
import type { Node } from '../model/node.ts';
import { nodeFromStat } from './node-from-stat.ts';
import type { PathMap } from './path-map.ts';

/** A node, or one still being saved. Wrapped, not a bare Promise: an async function returning a Promise would wait for it. */
export type PendingNode = Node | { readonly wait: Promise<Node | undefined> };

export function settle(p: PendingNode): Node | Promise<Node | undefined> {
  return 'wait' in p ? p.wait : p;
}

interface Dir {
  readonly path: string;
  readonly children: Map<string, Dir>;
  leaf: boolean;
}

/**
 * The snapshot's root tree mirrors the absolute source paths, as restic does: backing up /home/ann/docs gives
 * home/ann/docs in the snapshot, with the metadata of /home and /home/ann on the intermediate directories.
 * Sources nested inside another source are covered by it.
 */
export class RootBuilder {
  readonly #root: Dir = { path: '/', children: new Map(), leaf: false };
  readonly #scan: (path: Buffer, st: BigIntStats, name: Buffer) => Promise<PendingNode | undefined>;
  readonly #map: PathMap | undefined;

  /** `scan` gets recorded paths; with a `map`, the stat data comes from where each path is read (path-map.ts). */
  constructor(scan: (path: Buffer, st: BigIntStats, name: Buffer) => Promise<PendingNode | undefined>, map?: PathMap) {
    this.#scan = scan;
    this.#map = map && !map.empty ? map : undefined;
  }

  add(absPath: string): void {
    const parts = absPath.split('/').filter((p) => p !== '');
    let d = this.#root;
    if (parts.length === 0) {
      d.leaf = true;
      return;
    }
    for (const [i, part] of parts.entries()) {
      if (d.leaf) return;
      let c = d.children.get(part);
      if (!c) {
        c = { path: `/${parts.slice(0, i + 1).join('/')}`, children: new Map(), leaf: false };
        d.children.set(part, c);
      }
      d = c;
    }
    d.leaf = true;
    d.children.clear();
  }

  /** Scans every source and returns the root tree id. */
  async build(saveTree: (nodes: Node[]) => Promise<string>, onError: (path: string, e: unknown) => void): Promise<string> {
    if (this.#root.leaf) {
      // backing up "/" itself: the root tree is the filesystem root's tree
      const st = lstatSync(this.#map?.real('/') ?? '/', { bigint: true });
      const n = await this.#scan(Buffer.from('/'), st, Buffer.from('/'));
      const node = n && (await settle(n));
      if (!node?.subtree) throw new InvalidInputError('cannot read /');
      return node.subtree;
    }
    return await saveTree(await this.#children(this.#root, saveTree, onError));
  }

  async #children(d: Dir, saveTree: (nodes: Node[]) => Promise<string>, onError: (path: string, e: unknown) => void): Promise<Node[]> {
    const names = [...d.children.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const pending: (Node | Promise<Node | undefined>)[] = [];
    for (const name of names) {
      const c = d.children.get(name) as Dir;
      const real = this.#map?.real(c.path) ?? c.path;
      let st: BigIntStats;
      try {
        st = lstatSync(real, { bigint: true });
      } catch (e) {
        if (errnoCode(e) === 'ENOENT' && !c.leaf && this.#map) {
          // a recorded parent directory that exists nowhere (--as-path /new/place): an empty-metadata directory
          const node: Node = { name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: '0', atime: '0', ctime: '0' };
          node.subtree = await saveTree(await this.#children(c, saveTree, onError));
          pending.push(node);
          continue;
        }
        if (errnoCode(e) === 'ENOENT') throw new InvalidInputError(`${real} does not exist`);
        onError(c.path, e);
        continue;
      }
      if (c.leaf) {
        const n = await this.#scan(Buffer.from(c.path), st, Buffer.from(basename(c.path)));
        if (n) pending.push(settle(n));
      } else {
        const node = nodeFromStat(Buffer.from(name), Buffer.from(real), st, { xattrs: true });
        node.subtree = await saveTree(await this.#children(c, saveTree, onError));
        pending.push(node);
      }
    }
    return (await Promise.all(pending)).filter((n): n is Node => n !== undefined);
  }
}
