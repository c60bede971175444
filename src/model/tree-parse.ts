import { IntegrityError } from '../errors.ts';
import { NODE_TYPES, type Node, type Tree } from './node.ts';

const TYPES = new Set<string>(NODE_TYPES);
const HEX = /^[0-9a-f]{64}$/;

/** True for a 64-digit lowercase hex id (blob, tree, pack or snapshot id). */
export function isHexId(s: unknown): s is string {
  return typeof s === 'string' && HEX.test(s);
}

/**
 * Decodes and validates the plaintext of tree blob `id`: a hostile or damaged tree fails here with a clear
 * IntegrityError, not later. Shared by the restorer (tree-loader) and the checker.
 */
export function parseTree(raw: Uint8Array, id: string): Tree {
  let t: Tree;
  try {
    t = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as Tree;
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
