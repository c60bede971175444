/**
 * Test support: a repository on the in-memory backend and a one-call backup with the real archiver, plus a reader
 * that turns a snapshot back into a plain listing (path -> type, mode, content) to compare with the source tree.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import type { Node } from '../model/node.ts';
import { nodeNameBytes } from '../model/node.ts';
import type { SnapshotWithId } from '../model/snapshot.ts';
import { parseTree } from '../model/tree-parse.ts';
import { Repository } from '../repository/repository.ts';
import { Archiver, type BackupOptions } from './archiver.ts';

export interface TestRepo {
  readonly repo: Repository;
  readonly dir: string;
  close(): Promise<void>;
}

export async function memRepository(): Promise<TestRepo> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-arch-'));
  const repo = await Repository.init(new MemBackend(), 'pw', { kdf: { memory: 8192, passes: 1, parallelism: 1 }, catalogPath: join(dir, 'catalog.db') });
  return {
    repo,
    dir,
    async close() {
      await repo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Backs up `paths` (absolute) with the real archiver; returns the saved snapshot with its id. */
export async function backupPaths(repo: Repository, paths: readonly string[], o: Partial<BackupOptions> = {}): Promise<SnapshotWithId> {
  const r = await new Archiver(repo, { hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test', workers: 1, xattrs: false, paths, ...o }).run();
  if (!r.id) throw new Error('no snapshot saved');
  return { ...r.snapshot, id: r.id };
}

export async function treeOf(repo: Repository, id: string): Promise<Node[]> {
  return parseTree(await repo.loadBlob(Buffer.from(id, 'hex')), id).nodes;
}

/** The node of `path` (absolute, as recorded) in a snapshot, or undefined. */
export async function nodeAt(repo: Repository, snap: { tree: string }, path: string): Promise<Node | undefined> {
  let nodes = await treeOf(repo, snap.tree);
  let node: Node | undefined;
  for (const part of path.split('/').filter(Boolean)) {
    if (node) {
      if (!node.subtree) return undefined;
      nodes = await treeOf(repo, node.subtree);
    }
    node = nodes.find((n) => nodeNameBytes(n).toString() === part);
    if (!node) return undefined;
  }
  return node;
}

/** Every entry under `path` in a snapshot: relative path -> "dir" | "file:<content>" | "symlink:<target>". */
export async function listSnapshotTree(repo: Repository, snap: { tree: string }, path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const top = await nodeAt(repo, snap, path);
  if (!top?.subtree) return out;
  const walk = async (id: string, prefix: string): Promise<void> => {
    for (const n of await treeOf(repo, id)) {
      const rel = `${prefix}${nodeNameBytes(n).toString()}`;
      if (n.type === 'dir') {
        out.set(rel, 'dir');
        if (n.subtree) await walk(n.subtree, `${rel}/`);
      } else if (n.type === 'file') {
        const parts = await Promise.all((n.content ?? []).map(async (c) => await repo.loadBlob(Buffer.from(c, 'hex'))));
        out.set(rel, `file:${Buffer.concat(parts).toString()}`);
      } else out.set(rel, `${n.type}:${n.linkTarget ?? ''}`);
    }
  };
  await walk(top.subtree, '');
  return out;
}

/** The same listing as listSnapshotTree, read from the filesystem. */
export function listFsTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: string, prefix: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const rel = `${prefix}${name}`;
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p, `${rel}/`);
      } else if (st.isFile()) out.set(rel, `file:${readFileSync(p, 'utf8')}`);
      else if (st.isSymbolicLink()) out.set(rel, `symlink:${readlinkSync(p)}`);
    }
  };
  walk(dir, '');
  return out;
}
