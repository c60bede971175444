import { AbortedError } from '../errors.ts';
import { type Node, type Tree, nodeNameBytes } from '../model/node.ts';
import type { Repository } from '../repository/repository.ts';
import { loadTree } from './tree-loader.ts';

/** A regular file or symlink in a snapshot tree. */
export interface WalkedFile {
  /** snapshot path as the restorer's filters see it ("/home/ann/x.txt", display names) */
  readonly path: string;
  /** the same path as raw name bytes, where the restorer puts it under its target */
  readonly raw: Buffer;
  readonly node: Node;
}

/** Subtrees of one directory loaded ahead of the walk. */
const AHEAD = 8;
const SLASH = Buffer.from('/');

/**
 * Yields every regular file and symlink below `treeId` in tree order (deterministic), holding only the trees on the
 * current path plus a few read ahead — never the whole snapshot. A tree that cannot be read is reported through
 * `onTreeError` with its directory's path, and the walk goes on with its siblings.
 */
export async function* walkFiles(
  repo: Pick<Repository, 'loadBlob'>,
  treeId: string,
  o: { signal?: AbortSignal; onTreeError: (path: string, e: unknown) => void },
): AsyncGenerator<WalkedFile> {
  let root: Tree;
  try {
    root = await loadTree(repo, treeId, o.signal);
  } catch (e) {
    if (e instanceof AbortedError) throw e;
    o.onTreeError('/', e);
    return;
  }
  yield* walkTree(repo, root, '', Buffer.alloc(0), o);
}

async function* walkTree(
  repo: Pick<Repository, 'loadBlob'>,
  tree: Tree,
  path: string,
  raw: Buffer,
  o: { signal?: AbortSignal; onTreeError: (path: string, e: unknown) => void },
): AsyncGenerator<WalkedFile> {
  if (o.signal?.aborted) throw new AbortedError();
  const subdirs = tree.nodes.filter((n) => n.type === 'dir' && typeof n.subtree === 'string');
  const ahead: Promise<Tree>[] = [];
  let next = 0;
  const fill = (): void => {
    for (; next < subdirs.length && ahead.length < AHEAD; next++) {
      const p = loadTree(repo, (subdirs[next] as Node).subtree as string, o.signal);
      p.catch(() => {});
      ahead.push(p);
    }
  };
  fill();
  for (const node of tree.nodes) {
    const childPath = `${path}/${node.name}`;
    if (node.type === 'file' || node.type === 'symlink') {
      yield { path: childPath, raw: Buffer.concat([raw, SLASH, nodeNameBytes(node)]), node };
    } else if (node.type === 'dir' && typeof node.subtree === 'string') {
      const loading = ahead.shift() as Promise<Tree>;
      fill();
      let sub: Tree;
      try {
        sub = await loading;
      } catch (e) {
        if (e instanceof AbortedError) throw e;
        o.onTreeError(childPath, e);
        continue;
      }
      yield* walkTree(repo, sub, childPath, Buffer.concat([raw, SLASH, nodeNameBytes(node)]), o);
    }
  }
}
