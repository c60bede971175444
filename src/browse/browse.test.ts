import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Node } from '../model/node.ts';
import type { SnapshotWithId } from '../model/snapshot.ts';
import type { TreeEntry } from '../model/tree-entry.ts';
import { listSnapshots } from '../repository/snapshots.ts';
import { TreeCatalog } from '../repository/tree-catalog.ts';
import { Finder } from './find.ts';
import { history } from './history.ts';
import { partsOf, walk } from './list.ts';
import { showPath } from './path.ts';
import { compilePatterns } from './pattern.ts';
import { RepoBuilder } from './test-fixture.ts';
import { TreeDiff } from './tree-diff.ts';
import { TreeStore } from './tree-store.ts';

/** Counts entry requests per tree id. */
class CountingStore extends TreeStore {
  readonly calls = new Map<string, number>();
  override async entries(id: string, signal?: AbortSignal): Promise<readonly TreeEntry[]> {
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
    return await super.entries(id, signal);
  }
}

let b: RepoBuilder;
let snaps: SnapshotWithId[];
let bigTree: string;
let tmp: string;
before(async () => {
  b = await RepoBuilder.create();
  tmp = mkdtempSync(join(tmpdir(), 'pyb-browse-ops-'));
  const big = b.dir('big', Array.from({ length: 50 }, (_, i) => b.file(`f${i}.bin`, [`content ${i}`])));
  bigTree = big.subtree as string;
  const snap = async (docs: Node[], extra: Node[], time: string): Promise<void> => {
    await b.snapshot(b.tree([b.dir('data', [b.dir('docs', docs), big, ...extra])]), { time });
  };
  const a1 = b.file('a.txt', ['A1']);
  await snap([a1, b.file('b.md', ['B'])], [b.symlink('link', 'docs')], '2024-01-01T00:00:00Z');
  await snap([b.file('a.txt', ['A2']), b.file('b.md', ['B'], { mode: 0o600 }), b.file('c.txt', ['C'])], [], '2024-01-02T00:00:00Z');
  await snap([b.file('b.md', ['B'], { mode: 0o600 })], [], '2024-01-03T00:00:00Z');
  await snap([a1, b.file('b.md', ['B'], { mode: 0o600 })], [], '2024-01-04T00:00:00Z');
  snaps = await listSnapshots(b.repo);
});
after(async () => {
  await b.done();
  rmSync(tmp, { recursive: true, force: true });
});

test('the tree catalog answers a second run without loading trees', async () => {
  const catalog = TreeCatalog.open(join(tmp, 'trees.db'));
  try {
    const first = new TreeStore(b.repo, { catalog });
    const finder = new Finder(first, { match: compilePatterns(['*.txt']) });
    for (const s of snaps) await finder.find(s.tree);
    assert.ok(first.stats.treesLoaded > 0);
    const second = new TreeStore(b.repo, { catalog });
    const again = new Finder(second, { match: compilePatterns(['*.txt']) });
    for (const s of snaps) await again.find(s.tree);
    assert.equal(second.stats.treesLoaded, 0);
    assert.ok(second.stats.treesFromCatalog > 0);
  } finally {
    catalog.close();
  }
});

test('find matches names and paths across snapshots; an unchanged subtree is walked once', async () => {
  const store = new CountingStore(b.repo);
  const finder = new Finder(store, { match: compilePatterns(['*.txt', 're:^f4[0-9]\\.bin$']) });
  const found: string[][] = [];
  for (const s of snaps) found.push((await finder.find(s.tree)).map((m) => showPath(m.parts)));
  assert.deepEqual(found[0], ['/data/big/f40.bin', '/data/big/f41.bin', '/data/big/f42.bin', '/data/big/f43.bin', '/data/big/f44.bin', '/data/big/f45.bin', '/data/big/f46.bin', '/data/big/f47.bin', '/data/big/f48.bin', '/data/big/f49.bin', '/data/docs/a.txt']);
  assert.ok(found[1]?.includes('/data/docs/c.txt'));
  assert.equal(found[2]?.filter((p) => p.endsWith('.txt')).length, 0);
  assert.equal(store.calls.get(bigTree), 1, 'the big subtree was listed once for all four snapshots');
  const anchored = new Finder(store, { match: compilePatterns(['/data/*/b.md']) });
  assert.equal((await anchored.find(snaps[0]!.tree)).length, 1);
  const typed = new Finder(store, { match: compilePatterns(['*']), types: new Set(['symlink']) });
  assert.deepEqual((await typed.find(snaps[0]!.tree)).map((m) => showPath(m.parts)), ['/data/link']);
  const timed = new Finder(store, { match: compilePatterns(['*']), newest: 0n });
  assert.equal((await timed.find(snaps[0]!.tree)).length, 0);
  assert.throws(() => compilePatterns(['re:(']), /invalid regular expression/);
});

test('history: added, changed, metadata, deleted, reappeared', async () => {
  const store = new TreeStore(b.repo);
  const [g] = await history(store, snaps, ['data', 'docs', 'a.txt']);
  assert.deepEqual(g?.events.map((e) => e.kind), ['added', 'changed', 'deleted', 'reappeared']);
  assert.equal(g?.present, 3);
  const [m] = await history(store, snaps, ['data', 'docs', 'b.md'], { all: true });
  assert.deepEqual(m?.events.map((e) => e.kind), ['added', 'metadata', 'unchanged', 'unchanged']);
  const [d] = await history(store, snaps, ['data', 'docs']);
  assert.deepEqual(d?.events.map((e) => [e.kind, e.entries]), [['added', 2], ['changed', 3], ['changed', 1], ['changed', 2]]);
  const [none] = await history(store, snaps, ['nope']);
  assert.equal(none?.present, 0);
});

test('diff: markers, counts, and equal subtrees skipped without loading', async () => {
  const store = new CountingStore(b.repo);
  const d = new TreeDiff(store, b.repo);
  const changes: string[] = [];
  for await (const c of d.trees(snaps[0]!.tree, snaps[1]!.tree, [])) changes.push(`${c.marker} ${showPath(c.parts)}`);
  assert.deepEqual(changes, ['M /data/docs/a.txt', 'U /data/docs/b.md', '+ /data/docs/c.txt', '- /data/link']);
  assert.equal(store.calls.get(bigTree), undefined, 'the unchanged subtree was never loaded');
  const s = d.stats();
  assert.equal(s.changedFiles, 1);
  assert.deepEqual([s.added.files, s.removed.others, s.added.dataBlobs, s.removed.dataBlobs], [1, 1, 2, 1]);
  assert.equal(s.added.bytes - s.removed.bytes > 0, true);
  const none: string[] = [];
  for await (const c of new TreeDiff(store, b.repo).trees(snaps[1]!.tree, snaps[1]!.tree, [])) none.push(c.marker);
  assert.deepEqual(none, []);
});

test('walk lists depth first, each directory before its contents', async () => {
  const store = new TreeStore(b.repo);
  const all: string[] = [];
  for await (const l of walk(store, snaps[0]!.tree, [], { recursive: true })) all.push(showPath(partsOf(l)));
  assert.deepEqual(all.slice(0, 4), ['/data', '/data/big', '/data/big/f0.bin', '/data/big/f1.bin']);
  assert.equal(all.length, 1 + 1 + 50 + 1 + 2 + 1);
  const top: string[] = [];
  for await (const l of walk(store, snaps[0]!.tree, [], { recursive: false })) top.push(showPath(partsOf(l)));
  assert.deepEqual(top, ['/data']);
});
