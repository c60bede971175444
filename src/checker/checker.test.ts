import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import type { Node } from '../model/node.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { Repository } from '../repository/repository.ts';
import { saveSnapshot } from '../repository/snapshots.ts';
import { runCheck } from './checker.ts';
import type { CheckEvent, CheckSummary, Finding } from './events.ts';
import type { ReadDataSubset } from './subset.ts';

const base = { mode: 0o644, uid: 0, gid: 0, mtime: '0', atime: '0', ctime: '0' };

interface Fixture {
  readonly repo: Repository;
  readonly backend: MemBackend;
  readonly dataPack: string;
  readonly treePack: string;
  /** hex ids */
  readonly small: string;
  readonly big: string;
  readonly unused: string;
  readonly bigOffset: number;
  readonly snapshot: string;
}

/** A repository with one snapshot: /home/a.txt (small blob), /home/sub/c.bin (big blob), plus one unused blob. */
async function fixture(t: TestContext): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const backend = new MemBackend();
  const repo = await Repository.init(backend, 'pw', { kdf: { memory: 8192, passes: 1, parallelism: 1 }, catalogPath: join(dir, 'catalog.db') });
  t.after(() => repo.close());
  const blob = (pb: PackBuilder, plain: Buffer, type: 'data' | 'tree'): { hex: string; offset: number } => {
    const id = blobIdOf(repo.key.id, plain);
    const e = pb.addPayload(id, type, encodePayload(plain, { level: 1 }), plain.length);
    return { hex: id.toString('hex'), offset: e.offset };
  };
  const data = new PackBuilder(repo.sealer);
  const small = blob(data, Buffer.from('hello, world\n'), 'data');
  const big = blob(data, randomBytes(100_000), 'data');
  const unused = blob(data, Buffer.from('nobody refers to me'), 'data');
  const dataPack = data.finish();
  await repo.savePack(dataPack);
  const trees = new PackBuilder(repo.sealer);
  const tree = (nodes: Node[]): string => blob(trees, Buffer.from(JSON.stringify({ nodes })), 'tree').hex;
  const sub = tree([{ ...base, name: 'c.bin', type: 'file', size: 100_000, content: [big.hex] }]);
  const home = tree([
    { ...base, name: 'a.txt', type: 'file', size: 13, content: [small.hex] },
    { ...base, name: 'sub', type: 'dir', subtree: sub },
  ]);
  const root = tree([{ ...base, name: 'home', type: 'dir', subtree: home }]);
  const treePack = trees.finish();
  await repo.savePack(treePack);
  await repo.flushIndex();
  const snapshot = await saveSnapshot(repo, { time: new Date(0).toISOString(), tree: root, paths: ['/home'], hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test' });
  return { repo, backend, dataPack: dataPack.id, treePack: treePack.id, small: small.hex, big: big.hex, unused: unused.hex, bigOffset: big.offset, snapshot };
}

async function check(f: Fixture, readData?: ReadDataSubset): Promise<{ summary: CheckSummary; findings: Finding[] }> {
  const findings: Finding[] = [];
  const onEvent = (e: CheckEvent): void => {
    if (e.type === 'finding') findings.push(e.finding);
  };
  const summary = await runCheck(f.repo, { onEvent, workers: 1, ...(readData ? { readData } : {}) });
  return { summary, findings };
}

async function rewrite(f: Fixture, pack: string, edit: (b: Buffer) => void): Promise<void> {
  const bytes = Buffer.from(await f.backend.load({ type: 'pack', name: pack }));
  edit(bytes);
  await f.backend.save({ type: 'pack', name: pack }, bytes);
}

test('a clean repository: no errors, structure and all data; the unused blob is waste', async (t) => {
  const f = await fixture(t);
  for (const readData of [undefined, { kind: 'all' } as const]) {
    const { summary, findings } = await check(f, readData);
    assert.equal(summary.errors, 0, JSON.stringify(findings));
    assert.deepEqual([summary.packs, summary.blobs, summary.snapshots, summary.trees], [2, 6, 1, 3]);
    assert.equal(summary.packsRead, readData ? 2 : 0);
    const unused = findings.find((x) => x.code === 'blobs-unused');
    assert.equal(unused?.severity, 'info');
    assert.equal(unused?.blobCount, 1);
    assert.equal(summary.suggestPrune, true);
  }
});

test('a flipped byte inside a data blob: structure passes, read-data names the pack, blob and path', async (t) => {
  const f = await fixture(t);
  await rewrite(f, f.dataPack, (b) => {
    b[f.bigOffset + 500]! ^= 0x40;
  });
  assert.equal((await check(f)).summary.errors, 0, 'the structure check does not read data blobs');
  const { summary, findings } = await check(f, { kind: 'all' });
  assert.ok(summary.errors >= 2, JSON.stringify(findings));
  assert.deepEqual(summary.brokenPacks, [f.dataPack]);
  assert.ok(findings.some((x) => x.code === 'pack-hash-mismatch' && x.pack === f.dataPack));
  const damaged = findings.find((x) => x.code === 'blob-damaged');
  assert.equal(damaged?.blob, f.big);
  assert.equal(damaged?.pack, f.dataPack);
  assert.deepEqual(damaged?.affected, [{ snapshot: f.snapshot, path: '/home/sub/c.bin' }]);
});

test('a missing pack: the structure check names it and every path it affects', async (t) => {
  const f = await fixture(t);
  await f.backend.remove({ type: 'pack', name: f.dataPack });
  const { summary, findings } = await check(f);
  assert.equal(summary.errors, 1, JSON.stringify(findings));
  const missing = findings.find((x) => x.code === 'pack-missing');
  assert.equal(missing?.pack, f.dataPack);
  assert.deepEqual(
    missing?.affected?.map((a) => a.path).sort(),
    ['/home/a.txt', '/home/sub/c.bin'],
  );
});

test('a damaged tree is reported with its directory; its pack is named', async (t) => {
  const f = await fixture(t);
  await rewrite(f, f.treePack, (b) => {
    b[60]! ^= 0x01; // inside the first tree blob (home/sub)
  });
  const { summary, findings } = await check(f);
  // the structure check reads packs of trees whole: the pack's hash and the tree blob both fail
  assert.deepEqual(findings.filter((x) => x.severity === 'error').map((x) => x.code).sort(), ['blob-damaged', 'pack-hash-mismatch'], JSON.stringify(findings));
  assert.equal(summary.errors, 2);
  const bad = findings.find((x) => x.code === 'blob-damaged');
  assert.equal(bad?.blobType, 'tree');
  assert.equal(bad?.pack, f.treePack);
  assert.deepEqual(bad?.affected, [{ snapshot: f.snapshot, path: '/home/sub' }]);
  assert.equal(findings.some((x) => x.code === 'blobs-unused'), false, 'no unused report while part of the trees is unreadable');
});

test('unindexed packs and duplicate blobs are waste, not errors; subsets split the reading', async (t) => {
  const f = await fixture(t);
  const pb = new PackBuilder(f.repo.sealer);
  const plain = Buffer.from('hello, world\n');
  pb.addPayload(blobIdOf(f.repo.key.id, plain), 'data', encodePayload(plain, { level: 0 }), plain.length);
  const stray = pb.finish();
  await f.backend.save({ type: 'pack', name: stray.id }, stray.data);
  let { summary, findings } = await check(f);
  assert.equal(summary.errors, 0, JSON.stringify(findings));
  assert.equal(findings.find((x) => x.code === 'pack-unindexed')?.pack, stray.id);
  await f.repo.savePack(stray);
  await f.repo.flushIndex();
  ({ summary, findings } = await check(f));
  assert.equal(summary.errors, 0, JSON.stringify(findings));
  const dup = findings.find((x) => x.code === 'blob-duplicate');
  assert.equal(dup?.blob, f.small);
  let read = 0;
  for (const n of [1, 2, 3]) read += (await check(f, { kind: 'part', n, t: 3 })).summary.packsRead;
  assert.equal(read, 3, 'the parts together read every pack once');
});

test('a damaged pack header: read-data reports the pack, and still verifies every blob through the index', async (t) => {
  const f = await fixture(t);
  await rewrite(f, f.dataPack, (b) => {
    b[b.length - 20]! ^= 0x01; // inside the sealed header
  });
  assert.equal((await check(f)).summary.errors, 0, 'the structure check does not read pack headers');
  const { summary, findings } = await check(f, { kind: 'all' });
  assert.deepEqual(findings.filter((x) => x.severity === 'error').map((x) => x.code).sort(), ['pack-hash-mismatch', 'pack-header-damaged']);
  assert.equal(summary.errors, 2);
  assert.deepEqual(summary.brokenPacks, [f.dataPack]);
});

test('a tree that decrypts but is not a valid tree is reported as damaged, at its place', async (t) => {
  const f = await fixture(t);
  const pb = new PackBuilder(f.repo.sealer);
  const junk = Buffer.from('{"nodes": "not a list"}');
  const id = blobIdOf(f.repo.key.id, junk);
  pb.addPayload(id, 'tree', encodePayload(junk, { level: 0 }), junk.length);
  await f.repo.savePack(pb.finish());
  await f.repo.flushIndex();
  const snap = await saveSnapshot(f.repo, { time: new Date(1).toISOString(), tree: id.toString('hex'), paths: ['/x'], hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test' });
  for (const readData of [undefined, { kind: 'all' } as const]) {
    const { summary, findings } = await check(f, readData);
    assert.equal(summary.errors, 1, JSON.stringify(findings));
    const bad = findings.find((x) => x.code === 'tree-damaged');
    assert.match(bad?.message ?? '', /no node list/);
    assert.deepEqual(bad?.affected, [{ snapshot: snap, path: '/' }]);
  }
});
