/**
 * A small repository in memory for the repair tests: three files in /src and /src/sub, their data blobs in one
 * pack, the three trees in another, one snapshot. Built with the repository's own writers, not the archiver.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Handle } from '../backend/backend.ts';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import type { Node } from '../model/node.ts';
import { encodeTree } from '../model/tree-encode.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { Repository } from '../repository/repository.ts';
import { saveSnapshot } from '../repository/snapshots.ts';
import type { RepairEvent } from './events.ts';

const PASSWORD = 'pw';
const T = '1700000000000000000';

export interface Fixture {
  readonly backend: MemBackend;
  repo: Repository;
  readonly snapshot: string;
  readonly rootTree: string;
  /** file name -> its one content blob (hex) */
  readonly blobs: ReadonlyMap<string, string>;
  readonly dataPack: string;
  readonly treePack: string;
  /** closes and opens the repository again (a new process, same catalog) */
  reopen(): Promise<Repository>;
  done(): Promise<void>;
}

export function fileNode(name: string, content: string[], size: number): Node {
  return { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, atime: T, ctime: T, size, content };
}

export function dirNode(name: string, subtree: string): Node {
  return { name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, atime: T, ctime: T, subtree };
}

export async function makeFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-repair-'));
  const catalogPath = join(dir, 'catalog.db');
  const backend = new MemBackend();
  const repo = await Repository.init(backend, PASSWORD, { kdf: { memory: 8192, passes: 1, parallelism: 1 }, catalogPath });
  const blobs = new Map<string, string>();
  const data = new PackBuilder(repo.sealer);
  for (const name of ['a.bin', 'b.bin', 'c.bin']) {
    const plain = randomBytes(3000);
    const id = blobIdOf(repo.key.id, plain);
    data.addPayload(id, 'data', encodePayload(plain, { level: 1 }), plain.length);
    blobs.set(name, id.toString('hex'));
  }
  const dataPack = data.finish();
  await repo.savePack(dataPack);
  const trees = new PackBuilder(repo.sealer);
  const tree = (nodes: Node[]): string => {
    const plain = encodeTree(nodes);
    const id = blobIdOf(repo.key.id, plain);
    trees.addPayload(id, 'tree', encodePayload(plain, { level: 1 }), plain.length);
    return id.toString('hex');
  };
  const sub = tree([fileNode('c.bin', [blobs.get('c.bin')!], 3000)]);
  const src = tree([fileNode('a.bin', [blobs.get('a.bin')!], 3000), fileNode('b.bin', [blobs.get('b.bin')!], 3000), dirNode('sub', sub)]);
  const rootTree = tree([dirNode('src', src)]);
  const treePack = trees.finish();
  await repo.savePack(treePack);
  await repo.flushIndex();
  const snapshot = await saveSnapshot(repo, { time: '2024-01-01T00:00:00.000Z', tree: rootTree, paths: ['/src'], hostname: 'h', username: 'u', uid: 0, gid: 0, tags: ['t1'], programVersion: 'test' });
  const f: Fixture = {
    backend,
    repo,
    snapshot,
    rootTree,
    blobs,
    dataPack: dataPack.id,
    treePack: treePack.id,
    async reopen() {
      await f.repo.close();
      f.repo = await Repository.open(backend, PASSWORD, { catalogPath });
      return f.repo;
    },
    async done() {
      await f.repo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return f;
}

/** Replaces a stored file's bytes (the name stays: as damage on disk would). */
export async function mutate(backend: MemBackend, h: Handle, fn: (b: Buffer) => Buffer): Promise<void> {
  const b = fn(Buffer.from(await backend.load(h)));
  await backend.remove(h);
  await backend.save(h, b);
}

/** Every stored file name of a type, sorted. */
export async function names(backend: MemBackend, type: Handle['type']): Promise<string[]> {
  const out: string[] = [];
  for await (const f of backend.list(type)) out.push(f.name);
  return out.sort();
}

/** A snapshot of every stored file (type/name -> bytes as hex), to prove a dry run changed nothing. */
export async function everything(backend: MemBackend): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const type of ['config', 'key', 'pack', 'index', 'snapshot'] as const) {
    for await (const f of backend.list(type)) out.set(`${type}/${f.name}`, Buffer.from(await backend.load({ type, name: f.name })).toString('hex'));
  }
  return out;
}

/** Collects events for assertions. */
export function recorder(): { events: RepairEvent[]; onEvent: (e: RepairEvent) => void } {
  const events: RepairEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}
