import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, Tree } from '../model/node.ts';
import { mapAffected } from './affected.ts';
import type { CheckEvent, Finding } from './events.ts';
import { FindingLog } from './findings.ts';

const id = (c: string): string => c.repeat(64);
const base = { mode: 0o644, uid: 0, gid: 0, mtime: '0', atime: '0', ctime: '0' };
const file = (name: string, content: string[]): Node => ({ ...base, name, type: 'file', size: 1, content });
const dir = (name: string, subtree: string): Node => ({ ...base, name, type: 'dir', subtree });

const [R1, R2, H, S, X, D1, D2, D3, D4] = ['1', '2', '3', '4', '5', 'a', 'b', 'c', 'd'].map(id) as [string, string, string, string, string, string, string, string, string];
const TREES = new Map<string, Tree>([
  [R1, { nodes: [dir('home', H)] }],
  [R2, { nodes: [dir('home', H), dir('other', X)] }],
  [H, { nodes: [file('a.txt', [D1, D2, D1]), file('b.txt', [D3]), dir('dup', S), dir('sub', S)] }],
  [S, { nodes: [file('c.bin', [D1])] }],
  [X, { nodes: [file('x', [D4])] }],
]);
const SNAPSHOTS = [
  { id: id('e'), tree: R1 },
  { id: id('f'), tree: R2 },
];

function loader(trees: ReadonlyMap<string, Tree>): { load: (id: string) => Promise<Tree>; loads: Map<string, number> } {
  const loads = new Map<string, number>();
  return {
    loads,
    load: async (t) => {
      loads.set(t, (loads.get(t) ?? 0) + 1);
      const tree = trees.get(t);
      if (!tree) throw new Error(`tree ${t} is missing`);
      return tree;
    },
  };
}

test('bad blobs map to every snapshot path that uses them; bad trees to their directory', async () => {
  const l = loader(TREES);
  const map = await mapAffected({ snapshots: SNAPSHOTS, bad: new Set([D1, X]), load: l.load });
  const places = (b: string): string[] => (map.get(b)?.places ?? []).map((p) => `${p.snapshot[0]}:${p.path}`).sort();
  assert.deepEqual(places(D1), ['e:/home/a.txt', 'e:/home/dup/c.bin', 'e:/home/sub/c.bin', 'f:/home/a.txt', 'f:/home/dup/c.bin', 'f:/home/sub/c.bin']);
  assert.deepEqual(places(X), ['f:/other']);
  assert.equal(map.has(D2), false, 'intact blobs are not listed');
  for (const [t, n] of l.loads) assert.equal(n, 1, `tree ${t.slice(0, 4)} loaded once`);
  assert.equal(l.loads.has(X), false, 'a bad tree is not loaded');
});

test('a bad root tree affects "/"; clean repositories map nothing; places are capped per blob', async () => {
  const root = await mapAffected({ snapshots: SNAPSHOTS, bad: new Set([R1]), load: loader(TREES).load });
  assert.deepEqual(root.get(R1)?.places, [{ snapshot: id('e'), path: '/' }]);
  const l = loader(TREES);
  assert.equal((await mapAffected({ snapshots: SNAPSHOTS, bad: new Set(), load: l.load })).size, 0);
  assert.equal(l.loads.size, 0, 'nothing is loaded when nothing is bad');
  const capped = await mapAffected({ snapshots: SNAPSHOTS, bad: new Set([D1]), load: loader(TREES).load, limit: 2 });
  assert.equal(capped.get(D1)?.places.length, 2);
  assert.equal(capped.get(D1)?.more, 4);
});

test('unreadable trees and cycles do not stop the mapping', async () => {
  const cyclic = new Map<string, Tree>([
    [R1, { nodes: [dir('loop', R1), dir('gone', X), file('f', [D1])] }],
  ]);
  const map = await mapAffected({ snapshots: [{ id: id('e'), tree: R1 }], bad: new Set([D1]), load: loader(cyclic).load });
  assert.deepEqual(map.get(D1)?.places, [{ snapshot: id('e'), path: '/f' }]);
});

test('held findings are reported with the union of their blobs\' places, deduplicated', () => {
  const events: CheckEvent[] = [];
  const log = new FindingLog((e) => events.push(e));
  log.report({ severity: 'info', code: 'pack-unindexed', pack: id('9'), message: 'waste' });
  log.hold({ severity: 'error', code: 'pack-missing', pack: id('8'), message: 'pack 8 is missing' }, [D1, D2]);
  log.hold({ severity: 'error', code: 'blob-damaged', blob: D3, message: 'blob c is damaged' }, [D3]);
  assert.equal(events.length, 1, 'held findings wait for the places');
  assert.deepEqual([log.errors, log.warnings, log.infos], [2, 0, 1]);
  assert.deepEqual([...log.bad].sort(), [D1, D2, D3].sort());
  const a = { snapshot: id('e'), path: '/home/a.txt' };
  log.release(
    new Map([
      [D1, { places: [a, { snapshot: id('e'), path: '/home/sub/c.bin' }], more: 3 }],
      [D2, { places: [a], more: 0 }],
    ]),
  );
  const findings = events.flatMap((e) => (e.type === 'finding' ? [e.finding] : [])) as Finding[];
  assert.equal(findings.length, 3);
  const missing = findings.find((f) => f.code === 'pack-missing');
  assert.deepEqual(missing?.affected, [a, { snapshot: id('e'), path: '/home/sub/c.bin' }]);
  assert.equal(missing?.affectedMore, 3);
  const damaged = findings.find((f) => f.code === 'blob-damaged');
  assert.equal(damaged?.affected, undefined, 'a blob no snapshot uses affects nothing');
  assert.equal(log.heldCount, 0);
});
