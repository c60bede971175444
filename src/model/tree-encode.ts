import type { Node } from './node.ts';

/**
 * The stored form of a tree (docs/design.md §9): `{"nodes":[...]}` as JSON, nodes already sorted by raw name bytes.
 * Every writer of trees (backup, repair) uses this, so identical directories serialize identically and dedupe.
 */
export function encodeTree(nodes: readonly Node[]): Buffer {
  return Buffer.from(JSON.stringify({ nodes }));
}
