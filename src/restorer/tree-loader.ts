import { IntegrityError } from '../errors.ts';
import type { Node, Tree } from '../model/node.ts';
import { isHexId, parseTree } from '../model/tree-parse.ts';
import type { Repository } from '../repository/repository.ts';

/** Loads and validates a tree blob: a hostile or damaged tree fails here with a clear error, not later. */
export async function loadTree(repo: Pick<Repository, 'loadBlob'>, id: string, signal?: AbortSignal): Promise<Tree> {
  if (!isHexId(id)) throw new IntegrityError(`invalid tree id ${JSON.stringify(id)}`);
  return parseTree(await repo.loadBlob(Buffer.from(id, 'hex'), signal), id);
}

/** Follows a snapshot-relative path ("/home/ann") from the root tree; returns the node at its end. */
export async function findNode(repo: Pick<Repository, 'loadBlob'>, rootTree: string, path: string, signal?: AbortSignal): Promise<Node | undefined> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let treeId = rootTree;
  let node: Node | undefined;
  for (const [i, part] of parts.entries()) {
    const t = await loadTree(repo, treeId, signal);
    node = t.nodes.find((n) => n.name === part);
    if (!node) return undefined;
    if (i < parts.length - 1) {
      if (node.type !== 'dir' || !node.subtree) return undefined;
      treeId = node.subtree;
    }
  }
  return node;
}
