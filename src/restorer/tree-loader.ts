import { IntegrityError } from '../errors.ts';
import { NODE_TYPES, type Node, type Tree } from '../model/node.ts';
import type { Repository } from '../repository/repository.ts';

const TYPES = new Set<string>(NODE_TYPES);
const HEX = /^[0-9a-f]{64}$/;

/** Loads and validates a tree blob: a hostile or damaged tree fails here with a clear error, not later. */
export async function loadTree(repo: Pick<Repository, 'loadBlob'>, id: string, signal?: AbortSignal): Promise<Tree> {
  if (!HEX.test(id)) throw new IntegrityError(`invalid tree id ${JSON.stringify(id)}`);
  const raw = await repo.loadBlob(Buffer.from(id, 'hex'), signal);
  let t: Tree;
  try {
    t = JSON.parse(raw.toString('utf8')) as Tree;
  } catch (e) {
    throw new IntegrityError(`tree ${id} is not valid JSON`, { cause: e });
  }
  if (typeof t !== 'object' || t === null || !Array.isArray(t.nodes)) throw new IntegrityError(`tree ${id} has no node list`);
  for (const n of t.nodes) validateNode(n, id);
  return t;
}

function validateNode(n: Node, tree: string): void {
  const bad = (what: string): never => {
    throw new IntegrityError(`tree ${tree}: node ${JSON.stringify((n as { name?: unknown })?.name)} has ${what}`);
  };
  if (typeof n !== 'object' || n === null) bad('an invalid structure');
  if (typeof n.name !== 'string') bad('no name');
  if (!TYPES.has(n.type)) bad('an unknown type');
  if (!Number.isInteger(n.mode) || !Number.isInteger(n.uid) || !Number.isInteger(n.gid)) bad('invalid mode/owner');
  if (!/^-?\d{1,25}$/.test(n.mtime) || !/^-?\d{1,25}$/.test(n.atime)) bad('invalid times');
  if (n.type === 'file') {
    if (!Array.isArray(n.content) || !n.content.every((c) => typeof c === 'string' && HEX.test(c))) bad('invalid content ids');
    if (n.size !== undefined && (!Number.isSafeInteger(n.size) || n.size < 0)) bad('an invalid size');
  }
  if (n.type === 'dir' && (typeof n.subtree !== 'string' || !HEX.test(n.subtree))) bad('an invalid subtree');
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
