import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Archiver } from '../../archiver/archiver.ts';
import { listFsTree, listSnapshotTree, memRepository, nodeAt, type TestRepo } from '../../archiver/test-backup.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { WatchEvent } from './events.ts';
import { type WatchOptions, watchAndBackup } from './watcher.ts';

interface Harness {
  readonly events: WatchEvent[];
  readonly snapshots: SnapshotWithId[];
  /** resolves after the n-th finished backup (counting from 1) */
  done(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function start(r: TestRepo, roots: string[], o: Partial<WatchOptions> = {}): Harness {
  const events: WatchEvent[] = [];
  const snapshots: SnapshotWithId[] = [];
  const ac = new AbortController();
  let current: SnapshotWithId | undefined;
  const running = watchAndBackup({
    roots,
    quietMs: 150,
    rescanMs: 60_000,
    pollMs: 25,
    retryMs: 100,
    signal: ac.signal,
    onEvent: (e) => events.push(e),
    backup: async ({ dirs }, signal) => {
      const parent = current;
      const res = await new Archiver(r.repo, {
        hostname: 'h',
        username: 'u',
        uid: 0,
        gid: 0,
        programVersion: 'test',
        workers: 1,
        xattrs: false,
        paths: roots,
        skipIfUnchanged: true,
        ...(parent ? { parent } : {}),
        ...(dirs && parent ? { onlyChanged: { parent, dirs } } : {}),
        ...(signal ? { signal } : {}),
      }).run();
      if (res.id) {
        current = { ...res.snapshot, id: res.id };
        snapshots.push(current);
      }
      return { snapshotId: current?.id, created: !!res.id, dataAdded: res.snapshot.summary?.dataAdded ?? 0, errors: res.errors };
    },
    ...o,
  });
  const finished = (): number => events.filter((e) => e.type === 'backup-done').length;
  return {
    events,
    snapshots,
    async done(n, timeoutMs = 8000) {
      const until = Date.now() + timeoutMs;
      while (finished() < n) {
        if (Date.now() > until) assert.fail(`waited for backup ${n}; events: ${JSON.stringify(events.slice(-8))}`);
        await sleep(10);
      }
    },
    async stop() {
      ac.abort();
      await running;
    },
  };
}

function makeTree(): string {
  const src = mkdtempSync(join(tmpdir(), 'pyb-watch-'));
  for (const d of ['a/a1', 'a/a2', 'b', 'c/deep/deeper']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'a/a1/f'), 'f1');
  writeFileSync(join(src, 'a/a2/g'), 'g1');
  writeFileSync(join(src, 'b/h'), 'h1');
  writeFileSync(join(src, 'c/deep/deeper/x'), 'x1');
  return src;
}

test('watch: edits, new and removed subdirectories become snapshots of exactly the new state', async (t) => {
  const r = await memRepository();
  const src = makeTree();
  const h = start(r, [src]);
  t.after(async () => {
    await h.stop();
    await r.close();
    rmSync(src, { recursive: true, force: true });
  });
  await h.done(1);
  assert.deepEqual(await listSnapshotTree(r.repo, h.snapshots[0] as SnapshotWithId, src), listFsTree(src));
  assert.deepEqual(h.events.find((e) => e.type === 'backup-start'), { type: 'backup-start', kind: 'full', reason: 'first backup', dirs: 0 });

  writeFileSync(join(src, 'a/a1/f'), 'f2: edited');
  await h.done(2);
  const [s0, s1] = h.snapshots as [SnapshotWithId, SnapshotWithId];
  assert.deepEqual(await listSnapshotTree(r.repo, s1, src), listFsTree(src));
  const sub = async (s: SnapshotWithId, rel: string): Promise<string | undefined> => (await nodeAt(r.repo, s, join(src, rel)))?.subtree;
  for (const unchanged of ['a/a2', 'b', 'c']) assert.equal(await sub(s1, unchanged), await sub(s0, unchanged), `${unchanged} reused`);
  assert.notEqual(await sub(s1, 'a/a1'), await sub(s0, 'a/a1'));
  assert.ok(h.events.some((e) => e.type === 'backup-start' && e.kind === 'partial'));

  mkdirSync(join(src, 'b/new/inner'), { recursive: true });
  writeFileSync(join(src, 'b/new/inner/n'), 'n1');
  rmSync(join(src, 'c/deep'), { recursive: true });
  await h.done(3);
  const s2 = h.snapshots.at(-1) as SnapshotWithId;
  assert.deepEqual(await listSnapshotTree(r.repo, s2, src), listFsTree(src));
  assert.equal(await sub(s2, 'a'), await sub(s1, 'a'), 'a reused');

  // a burst of 100 edits: one or two snapshots, not 100
  const before = h.snapshots.length;
  const doneBefore = h.events.filter((e) => e.type === 'backup-done').length;
  for (let i = 0; i < 100; i++) {
    appendFileSync(join(src, 'a/a2/g'), `edit ${i}\n`);
    if (i % 10 === 0) await sleep(5);
  }
  await h.done(doneBefore + 1);
  await sleep(400);
  const made = h.snapshots.length - before;
  assert.ok(made >= 1 && made <= 2, `${made} snapshots for a burst`);
  assert.deepEqual(await listSnapshotTree(r.repo, h.snapshots.at(-1) as SnapshotWithId, src), listFsTree(src));
});

test('watch: a source that vanishes is watched again when it comes back; rescans find what notifications missed', async (t) => {
  const r = await memRepository();
  const base = mkdtempSync(join(tmpdir(), 'pyb-watch-'));
  const one = join(base, 'one');
  const two = join(base, 'two');
  mkdirSync(join(one, 'sub'), { recursive: true });
  mkdirSync(two);
  writeFileSync(join(one, 'sub/f'), '1');
  writeFileSync(join(two, 'g'), '1');
  // changes under one/hidden are "lost" notifications: only the periodic rescan sees them
  const h = start(r, [one, two], { rescanMs: 1500, ignore: (p) => p.includes('/hidden') });
  t.after(async () => {
    await h.stop();
    await r.close();
    rmSync(base, { recursive: true, force: true });
  });
  await h.done(1);

  rmSync(two, { recursive: true });
  const lostAt = Date.now();
  while (!h.events.some((e) => e.type === 'root-lost')) {
    assert.ok(Date.now() - lostAt < 5000, 'root-lost reported');
    await sleep(10);
  }
  const doneWhileLost = h.events.filter((e) => e.type === 'backup-done').length;
  mkdirSync(join(two, 'again'), { recursive: true });
  writeFileSync(join(two, 'again/h'), 'back');
  await h.done(doneWhileLost + 1);
  assert.ok(h.events.some((e) => e.type === 'root-back' && e.root === two));
  assert.ok(h.events.some((e) => e.type === 'backup-start' && e.kind === 'full' && /is back/.test(e.reason)));
  const back = h.snapshots.at(-1) as SnapshotWithId;
  assert.deepEqual(await listSnapshotTree(r.repo, back, two), listFsTree(two));

  // the new root is watched: an edit in it is noticed
  const n = h.events.filter((e) => e.type === 'backup-done').length;
  writeFileSync(join(two, 'again/h'), 'edited after return');
  await h.done(n + 1);
  assert.deepEqual(await listSnapshotTree(r.repo, h.snapshots.at(-1) as SnapshotWithId, two), listFsTree(two));

  mkdirSync(join(one, 'hidden'));
  writeFileSync(join(one, 'hidden/secret'), 'seen by the rescan only');
  const m = h.events.filter((e) => e.type === 'backup-done').length;
  await h.done(m + 1, 6000);
  assert.ok(h.events.some((e) => e.type === 'backup-start' && e.reason === 'periodic rescan'));
  assert.deepEqual(await listSnapshotTree(r.repo, h.snapshots.at(-1) as SnapshotWithId, one), listFsTree(one));
});

test('watch: a failed backup is retried with its changes kept', async (t) => {
  const src = makeTree();
  const events: WatchEvent[] = [];
  const calls: (string[] | 'full')[] = [];
  const ac = new AbortController();
  let fail = true;
  const running = watchAndBackup({
    roots: [src],
    quietMs: 50,
    rescanMs: 60_000,
    retryMs: 100,
    pollMs: 20,
    signal: ac.signal,
    onEvent: (e) => events.push(e),
    backup: async ({ dirs }) => {
      calls.push(dirs ? [...dirs].sort() : 'full');
      if (dirs && fail) {
        fail = false;
        throw new Error('repository unreachable');
      }
      return { snapshotId: 'x', created: true, dataAdded: 0, errors: 0 };
    },
  });
  t.after(async () => {
    ac.abort();
    await running;
    rmSync(src, { recursive: true, force: true });
  });
  while (calls.length < 1) await sleep(5);
  await sleep(50);
  writeFileSync(join(src, 'b/h'), 'changed');
  const until = Date.now() + 5000;
  while (calls.length < 3 && Date.now() < until) await sleep(10);
  assert.deepEqual(calls.slice(0, 3), ['full', [join(src, 'b')], [join(src, 'b')]]);
  const failed = events.find((e) => e.type === 'backup-failed');
  assert.ok(failed && failed.type === 'backup-failed' && failed.message === 'repository unreachable');
});
