import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { parseTree } from '../model/tree-parse.ts';
import { type InitOptions, Repository } from '../repository/repository.ts';
import { listSnapshots, SnapshotNotFoundError } from '../repository/snapshots.ts';
import { copyModeFor } from './copy-content.ts';
import { copySnapshots } from './copy.ts';
import { backupPaths, listSnapshotTree } from './test-backup.ts';

const SMALL = { min: 4096, avg: 16384, max: 65536 };
const OTHER = { min: 8192, avg: 32768, max: 131072 };
const KDF = { memory: 8192, passes: 1, parallelism: 1 };

let dir: string;
let data: string;
const repos: Repository[] = [];
let n = 0;

async function newRepo(o: InitOptions = {}): Promise<Repository> {
  const r = await Repository.init(new MemBackend(), 'pw', { kdf: KDF, chunker: SMALL, catalogPath: join(dir, `catalog-${n++}.db`), ...o });
  repos.push(r);
  return r;
}

/** Counts blob loads, to see what the copy reads from the source. */
function counting(repo: Repository): { repo: Repository; loads: Map<string, number> } {
  const loads = new Map<string, number>();
  const proxy = new Proxy(repo, {
    get(target, prop) {
      if (prop === 'loadBlob') {
        return async (id: Uint8Array, signal?: AbortSignal) => {
          const hex = Buffer.from(id).toString('hex');
          loads.set(hex, (loads.get(hex) ?? 0) + 1);
          return await target.loadBlob(id, signal);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { repo: proxy, loads };
}

describe('copySnapshots', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyb-copy-'));
    data = join(dir, 'data');
    mkdirSync(join(data, 'sub', 'deep'), { recursive: true });
    mkdirSync(join(data, 'other', 'deep'), { recursive: true });
    const shared = randomBytes(300_000);
    writeFileSync(join(data, 'a.bin'), shared);
    writeFileSync(join(data, 'sub', 'b.bin'), shared);
    writeFileSync(join(data, 'sub', 'deep', 'c.txt'), 'hello '.repeat(20_000));
    writeFileSync(join(data, 'other', 'deep', 'c.txt'), 'hello '.repeat(20_000));
    writeFileSync(join(data, 'empty'), '');
    writeFileSync(join(data, 'big.bin'), randomBytes(700_000));
  });
  after(async () => {
    for (const r of repos.splice(0)) await r.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies between repositories with different keys and chunker params (rechunk), keeping the metadata', async () => {
    const src = await newRepo();
    const dst = await newRepo({ chunker: OTHER });
    assert.equal(copyModeFor(src, dst), 'rechunk');
    const sn = await backupPaths(src, [data], { tags: ['t1'] });
    const s = await copySnapshots(src, dst, {});
    assert.equal(s.mode, 'rechunk');
    assert.equal(s.copied, 1);
    const [copy] = await listSnapshots(dst);
    assert.ok(copy);
    assert.equal(copy.original, sn.id);
    assert.equal(copy.time, sn.time);
    assert.equal(copy.hostname, sn.hostname);
    assert.deepEqual(copy.paths, sn.paths);
    assert.deepEqual(copy.tags, ['t1']);
    assert.deepEqual(copy.summary, sn.summary);
    assert.notEqual(copy.tree, sn.tree);
    assert.deepEqual(await listSnapshotTree(dst, copy, data), await listSnapshotTree(src, sn, data));
    // shared data is stored once: a.bin == sub/b.bin, the two c.txt are equal
    assert.ok(s.dataAdded < 300_000 + 120_000 + 700_000 + 60_000, `added ${s.dataAdded}`);
  });

  it('a backup into the destination after a rechunked copy adds (almost) no data', async () => {
    const src = await newRepo();
    const dst = await newRepo({ chunker: OTHER });
    await backupPaths(src, [data]);
    await copySnapshots(src, dst, {});
    const again = await backupPaths(dst, [data]);
    assert.ok((again.summary?.dataBlobs ?? 0) === 0, `new data blobs: ${again.summary?.dataBlobs}`);
  });

  it('keeps boundaries with a copied chunker secret and params; files restore the same as when rechunked', async () => {
    const src = await newRepo();
    const keep = await newRepo({ chunkerKey: src.key.chunker });
    const re = await newRepo();
    assert.equal(copyModeFor(src, keep), 'keep-boundaries');
    assert.equal(copyModeFor(src, re), 'rechunk', 'same params, other chunker key');
    const sn = await backupPaths(src, [data]);
    const k = await copySnapshots(src, keep, {});
    const r = await copySnapshots(src, re, {});
    assert.equal(k.mode, 'keep-boundaries');
    const [kc] = await listSnapshots(keep);
    const [rc] = await listSnapshots(re);
    const expected = await listSnapshotTree(src, sn, data);
    assert.deepEqual(await listSnapshotTree(keep, kc!, data), expected);
    assert.deepEqual(await listSnapshotTree(re, rc!, data), expected);
    assert.equal(r.mode, 'rechunk');
    // same boundaries: the source and the copy have as many data blobs
    assert.equal(k.dataBlobs, sn.summary?.dataBlobs);
  });

  it('reads each source tree once and each shared file once (memoization)', async () => {
    const src = await newRepo();
    const dst = await newRepo({ chunker: OTHER });
    await backupPaths(src, [data]);
    writeFileSync(join(data, 'new.txt'), 'new');
    await backupPaths(src, [data]);
    const c = counting(src);
    const s = await copySnapshots(c.repo, dst, {});
    assert.equal(s.copied, 2);
    for (const [id, times] of c.loads) assert.equal(times, 1, `blob ${id} read ${times} times`);
    // deep/ under sub and other are equal trees: read once, one destination tree
    const [, second] = await listSnapshots(dst);
    const root = parseTree(await dst.loadBlob(Buffer.from(second!.tree, 'hex')), second!.tree);
    assert.ok(root.nodes.length > 0);
  });

  it('skips snapshots already copied and copies only new ones; bad ids fail cleanly', async () => {
    const src = await newRepo();
    const dst = await newRepo();
    await backupPaths(src, [data]);
    const first = await copySnapshots(src, dst, {});
    assert.equal(first.copied, 1);
    const again = await copySnapshots(src, dst, {});
    assert.deepEqual([again.copied, again.skipped, again.dataAdded], [0, 1, 0]);
    writeFileSync(join(data, 'more.txt'), 'more data');
    const sn2 = await backupPaths(src, [data]);
    const third = await copySnapshots(src, dst, {});
    assert.deepEqual([third.copied, third.skipped], [1, 1]);
    assert.ok(third.dataAdded < 20_000, `added ${third.dataAdded}`);
    assert.equal(third.snapshots[0]?.source, sn2.id);
    await assert.rejects(copySnapshots(src, dst, { snapshots: ['deadbeef'] }), SnapshotNotFoundError);
    const latest = await copySnapshots(src, dst, { snapshots: ['latest'] });
    assert.deepEqual([latest.selected, latest.skipped], [1, 1]);
  });

  it('recognizes a similar snapshot with the same tree (copied without `original`)', async () => {
    const src = await newRepo();
    const dst = await newRepo({ chunkerKey: src.key.chunker });
    const sn = await backupPaths(src, [data]);
    await copySnapshots(src, dst, {});
    const [c] = await listSnapshots(dst);
    // rewrite the copy without `original`, as another tool might have made it
    const { id: _id, original: _o, ...rest } = c!;
    await dst.saveFile('snapshot', Buffer.from(JSON.stringify(rest)));
    await dst.backend.remove({ type: 'snapshot', name: c!.id });
    const s = await copySnapshots(src, dst, {});
    assert.deepEqual([s.copied, s.skipped], [0, 1]);
    assert.equal(sn.id.length, 64);
  });
});

describe('copySnapshots chains', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyb-copy-chain-'));
    data = join(dir, 'data');
    mkdirSync(join(data, 'd'), { recursive: true });
    writeFileSync(join(data, 'd', 'x.bin'), randomBytes(200_000));
  });
  after(async () => {
    for (const r of repos.splice(0)) await r.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('A -> B -> C, then A -> C skips (same time/host/paths/tags and the same translated tree)', async () => {
    const a = await newRepo();
    const b = await newRepo({ chunker: OTHER });
    const c = await newRepo();
    await backupPaths(a, [data]);
    assert.equal((await copySnapshots(a, b, {})).copied, 1);
    assert.equal((await copySnapshots(b, c, {})).copied, 1);
    const s = await copySnapshots(a, c, {});
    assert.deepEqual([s.copied, s.skipped, s.dataAdded], [0, 1, 0]);
  });
});

describe('copySnapshots with a damaged source', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyb-copy-bad-'));
    data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'x.bin'), randomBytes(50_000));
  });
  after(async () => {
    for (const r of repos.splice(0)) await r.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the snapshot whose data cannot be read and keeps the code', async () => {
    const a = await newRepo();
    const b = await newRepo();
    const sn = await backupPaths(a, [data]);
    // lose every pack: the root tree cannot be read
    for await (const f of a.backend.list('pack')) await a.backend.remove({ type: 'pack', name: f.name });
    await assert.rejects(copySnapshots(a, b, {}), (e: Error & { code?: string }) => {
      assert.match(e.message, new RegExp(`cannot copy snapshot ${sn.id.slice(0, 8)}`));
      assert.ok(e.code === 'NOT_FOUND' || e.code === 'INTEGRITY', String(e.code));
      return true;
    });
  });
});
