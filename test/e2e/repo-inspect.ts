/**
 * Looking inside a test repository through the CLI (`cat index`, `cat tree`): where a blob is stored, what a
 * directory's tree holds, and the path of a pack file, for tests that damage specific bytes.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Sandbox, assertExit } from './helpers.ts';

export interface IndexDump {
  packs: { id: string; blobs: { id: string; type: string; offset: number; length: number }[] }[];
}

export interface TreeNodeDump {
  name: string;
  type: string;
  content?: string[];
  subtree?: string;
}

export async function indexDump(sb: Sandbox, name: string, repo = sb.repo): Promise<IndexDump> {
  const r = await sb.cli(['cat', 'index', name], { repo });
  assertExit(r, 0, 'cat index');
  return JSON.parse(r.stdout) as IndexDump;
}

/** Pack, offset and length of a blob, through `cat index` over every index file. */
export async function locate(sb: Sandbox, blob: string, repo = sb.repo): Promise<{ pack: string; offset: number; length: number }> {
  for (const name of readdirSync(join(repo, 'index')).filter((n) => !n.startsWith('.'))) {
    for (const p of (await indexDump(sb, name, repo)).packs) {
      const b = p.blobs.find((x) => x.id === blob);
      if (b) return { pack: p.id, offset: b.offset, length: b.length };
    }
  }
  throw new Error(`blob ${blob} not in any index`);
}

/** Every blob id of one pack, from the index files. */
export async function packBlobs(sb: Sandbox, pack: string, repo = sb.repo): Promise<string[]> {
  for (const name of readdirSync(join(repo, 'index')).filter((n) => !n.startsWith('.'))) {
    const p = (await indexDump(sb, name, repo)).packs.find((x) => x.id === pack);
    if (p) return p.blobs.map((b) => b.id);
  }
  throw new Error(`pack ${pack} not in any index`);
}

/** The nodes of a tree given as SNAPSHOT[:PATH] or a tree id. */
export async function treeOf(sb: Sandbox, ref: string, repo = sb.repo): Promise<TreeNodeDump[]> {
  const r = await sb.cli(['cat', 'tree', ref], { repo });
  assertExit(r, 0, `cat tree ${ref}`);
  return (JSON.parse(r.stdout) as { nodes: TreeNodeDump[] }).nodes;
}

export async function nodeOf(sb: Sandbox, ref: string, name: string, repo = sb.repo): Promise<TreeNodeDump> {
  const n = (await treeOf(sb, ref, repo)).find((x) => x.name === name);
  assert.ok(n, `${name} in ${ref}`);
  return n;
}

export function packPath(repo: string, pack: string): string {
  return join(repo, 'data', pack.slice(0, 2), pack);
}
