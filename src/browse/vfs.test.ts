import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SnapshotWithId } from '../model/snapshot.ts';
import { listSnapshots } from '../repository/snapshots.ts';
import { RepoBuilder } from './test-fixture.ts';
import { TreeStore } from './tree-store.ts';
import { type VNode, Vfs, nsToMs, timeId } from './vfs.ts';

let b: RepoBuilder;
let snaps: SnapshotWithId[];
const latin1 = Buffer.from('n\xe9', 'latin1');

before(async () => {
  b = await RepoBuilder.create();
  const root1 = b.tree([b.file('a.txt', ['hello']), b.dir('d', [b.file('x', ['1', '2'])])]);
  const root2 = b.tree([b.file('a.txt', ['hello!']), b.file(latin1, ['raw']), b.file('ctl\nname', ['c']), b.symlink('ln', 'a.txt')]);
  await b.snapshot(root1, { time: '2026-11-24T22:30:05.123Z', host: 'alpha', tags: ['daily', 'a/b'] });
  await b.snapshot(root2, { time: '2026-11-25T08:00:00Z', host: 'beta', tags: ['daily'] });
  await b.snapshot(root1, { time: '2026-11-23T00:00:00Z', host: 'alpha' });
  snaps = await listSnapshots(b.repo);
});
after(async () => await b.done());

const names = (vs: readonly VNode[]): string[] => vs.map((v) => v.name);

test('timeId is the UTC time to the second and the short id', () => {
  assert.equal(timeId({ time: '2026-11-24T22:30:05.999Z', id: '1a2b3c4d5e6f' }), '2026-11-24T22-30-05_1a2b3c4d');
  assert.equal(timeId({ time: '2026-11-24T23:30:05+01:00', id: '1a2b3c4d' }), '2026-11-24T22-30-05_1a2b3c4d');
  assert.equal(nsToMs('1700000000123456789'), 1_700_000_000_123);
  assert.equal(nsToMs('garbage'), 0);
});

test('the virtual top level, snapshots, hosts and tags', async () => {
  const v = new Vfs(new TreeStore(b.repo), snaps);
  assert.deepEqual(names(await v.readdir(v.root)), ['hosts', 'latest', 'snapshots', 'tags']);
  const all = await v.lookup(['snapshots']);
  assert.ok(all);
  assert.deepEqual(names(await v.readdir(all)), snaps.map(timeId));
  assert.ok(names(await v.readdir(all))[1]?.startsWith('2026-11-24T22-30-05_'));
  assert.deepEqual(names(await v.readdir((await v.lookup(['hosts'])) as VNode)), ['alpha', 'beta']);
  assert.equal((await v.readdir((await v.lookup(['hosts', 'alpha'])) as VNode)).length, 2);
  assert.deepEqual(names(await v.readdir((await v.lookup(['tags'])) as VNode)), ['a\\x2fb', 'daily']);
  assert.equal((await v.readdir((await v.lookup(['tags', 'daily'])) as VNode)).length, 2);
  const snapDir = (await v.lookup(['tags', 'a\\x2fb', timeId(snaps[1] as SnapshotWithId)])) as VNode;
  assert.equal(snapDir.stat.type, 'dir');
  assert.equal(snapDir.stat.mtimeMs, Date.parse('2026-11-24T22:30:05.123Z'));
  assert.deepEqual(names(await v.readdir(snapDir)), ['a.txt', 'd']);
  assert.equal(await v.lookup(['nope']), undefined);
  assert.equal(await v.lookup(['snapshots', 'nope']), undefined);
});

test('/latest: per host when there are several, the newest snapshot itself when there is one host', async () => {
  const v = new Vfs(new TreeStore(b.repo), snaps);
  assert.deepEqual(names(await v.readdir((await v.lookup(['latest'])) as VNode)), ['alpha', 'beta']);
  const alpha = (await v.lookup(['latest', 'alpha'])) as VNode;
  assert.equal(alpha.stat.mtimeMs, Date.parse('2026-11-24T22:30:05.123Z'), 'the newest of alpha, not the oldest');
  const one = new Vfs(new TreeStore(b.repo), snaps.filter((s) => s.hostname === 'alpha'));
  assert.deepEqual(names(await one.readdir((await one.lookup(['latest'])) as VNode)), ['a.txt', 'd']);
  const empty = new Vfs(new TreeStore(b.repo), []);
  assert.deepEqual(names(await empty.readdir((await empty.lookup(['latest'])) as VNode)), []);
  assert.deepEqual(names(await empty.readdir((await empty.lookup(['snapshots'])) as VNode)), []);
});

test('real nodes: stat, odd names shown escaped and resolved back from the shown form or the bytes', async () => {
  const v = new Vfs(new TreeStore(b.repo), snaps);
  const dir = (await v.lookup(['latest', 'beta'])) as VNode;
  const kids = await v.readdir(dir);
  assert.deepEqual(names(kids), ['a.txt', 'ctl\\nname', 'ln', 'n\\xe9']);
  const a = kids[0] as VNode;
  assert.deepEqual({ ...a.stat, etag: undefined }, { type: 'file', size: 6, mtimeMs: 1_700_000_000_123, mode: 0o644, etag: undefined });
  assert.equal((kids[2] as VNode).stat.type, 'symlink');
  assert.equal((await v.child(dir, 'n\\xe9'))?.node?.nameRaw, latin1.toString('base64'));
  assert.equal((await v.child(dir, latin1))?.name, 'n\\xe9');
  assert.equal((await v.child(dir, 'ctl\\nname'))?.stat.size, 1);
  const x = (await v.lookup(['snapshots', timeId(snaps[0] as SnapshotWithId), 'd', 'x'])) as VNode;
  assert.equal(x.stat.size, 2);
  assert.equal(await v.lookup(['snapshots', timeId(snaps[0] as SnapshotWithId), 'd', 'x', 'deeper']), undefined);
});

test('etags are stable and follow content', async () => {
  const v1 = new Vfs(new TreeStore(b.repo), snaps);
  const v2 = new Vfs(new TreeStore(b.repo), snaps);
  const path = ['latest', 'beta', 'a.txt'];
  assert.equal((await v1.lookup(path))?.stat.etag, (await v2.lookup(path))?.stat.etag);
  assert.notEqual((await v1.lookup(path))?.stat.etag, (await v1.lookup(['latest', 'alpha', 'a.txt']))?.stat.etag);
});
