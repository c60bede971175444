import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { PyBackupError } from '../errors.ts';
import { nodeNameBytes } from '../model/node.ts';
import { displayName, matchComponent, parseRef, resolveEntry, resolvePath, splitPath, unescapeName } from './path.ts';
import { RepoBuilder } from './test-fixture.ts';
import { TreeStore } from './tree-store.ts';

test('parseRef splits at the first colon; the path may hold more', () => {
  assert.deepEqual(parseRef('latest'), { snapshot: 'latest', path: undefined });
  assert.deepEqual(parseRef('abc:'), { snapshot: 'abc', path: '/' });
  assert.deepEqual(parseRef('abc:/'), { snapshot: 'abc', path: '/' });
  assert.deepEqual(parseRef('abc:/a:b/c'), { snapshot: 'abc', path: '/a:b/c' });
  assert.throws(() => parseRef(':/etc'), (e: PyBackupError) => e.code === 'USAGE' && /missing snapshot ID/.test(e.message));
  assert.throws(() => parseRef(''), /missing snapshot ID/);
});

test('splitPath normalizes and never climbs above the root', () => {
  assert.deepEqual(splitPath('/a//b/./c/'), ['a', 'b', 'c']);
  assert.deepEqual(splitPath('a/../../b'), ['b']);
  assert.deepEqual(splitPath('/'), []);
});

test('displayName shows plain names as they are and escapes the rest', () => {
  assert.equal(displayName(Buffer.from('plain name.txt')), 'plain name.txt');
  assert.equal(displayName(Buffer.from('back\\slash')), 'back\\slash');
  assert.equal(displayName(Buffer.from('new\nline')), 'new\\nline');
  assert.equal(displayName(Buffer.from([0x61, 0xff, 0x5c, 0x62])), 'a\\xff\\\\b');
  assert.equal(displayName(Buffer.from('日本')), '日本');
});

test('property: an escaped display name unescapes to the raw bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (raw) => {
      const b = Buffer.from(raw);
      const shown = displayName(b);
      const back = unescapeName(shown);
      // a name shown unescaped is matched by its exact bytes; an escaped one unescapes to them
      assert.ok(Buffer.from(shown).equals(b) || back?.equals(b), `${b.toString('hex')} -> ${shown}`);
    }),
  );
});

test('matchComponent: exact bytes, then the lossy form, then the escaped form; ambiguity is an error', () => {
  const names = [Buffer.from('a\\x41'), Buffer.from([0x66, 0xff]), Buffer.from([0x66, 0xfe]), Buffer.from([0x67, 0xff])];
  const m = (c: string): Buffer | undefined => matchComponent(names, (x) => x, c);
  assert.equal(m('a\\x41'), names[0]); // a literal backslash name wins over unescaping
  assert.equal(m('g\uFFFD'), names[3]);
  assert.equal(m('f\\xfe'), names[2]);
  assert.throws(() => m('f\uFFFD'), /ambiguous/);
  assert.equal(m('nope'), undefined);
});

let b: RepoBuilder;
let root: string;
before(async () => {
  b = await RepoBuilder.create();
  const odd = Buffer.from([0x64, 0xc3, 0x28]); // not UTF-8
  root = b.tree([b.dir('data', [b.dir(odd, [b.file('inner.txt', ['x'])]), b.file('new\nline', ['y']), b.file('a:b', ['z']), b.symlink('ln', 'inner.txt')])]);
  await b.flush();
});
after(async () => await b.done());

test('resolvePath walks odd names bytes-safely and reports where it stopped', async () => {
  const store = new TreeStore(b.repo);
  const r = await resolvePath(store, root, '/data/d\\xc3(/inner.txt', 'snapshot x');
  assert.equal(r.node?.name, 'inner.txt');
  assert.equal(r.parts.length, 3);
  assert.deepEqual(r.parts[1], Buffer.from([0x64, 0xc3, 0x28]));
  const lossy = await resolvePath(store, root, '/data/d\uFFFD(', 'snapshot x');
  assert.equal(lossy.node?.type, 'dir');
  assert.ok(lossy.treeId);
  assert.equal((await resolvePath(store, root, '/data/new\nline', 's')).node?.type, 'file');
  assert.equal((await resolvePath(store, root, 'data/a:b', 's')).node?.type, 'file');
  const top = await resolvePath(store, root, '/', 's');
  assert.equal(top.node, undefined);
  assert.equal(top.treeId, root);
  await assert.rejects(resolvePath(store, root, '/data/missing/x', 'snapshot x'), (e: PyBackupError) => e.code === 'NOT_FOUND' && /\/data has no entry "missing"/.test(e.message));
  await assert.rejects(resolvePath(store, root, '/data/a:b/x', 'snapshot x'), /is not a directory/);
  await assert.rejects(resolvePath(store, root, '/data/ln/x', 'snapshot x'), /is not a directory/);
});

test('resolveEntry finds the same nodes over entries', async () => {
  const store = new TreeStore(b.repo);
  const r = await resolveEntry(store, root, ['data', 'd\\xc3(', 'inner.txt']);
  assert.equal(r?.entry.type, 'file');
  assert.equal(await resolveEntry(store, root, ['data', 'zzz']), undefined);
  assert.equal(await resolveEntry(store, root, ['data', 'a:b', 'x']), undefined);
  assert.equal(nodeNameBytes({ name: 'x' }).toString(), 'x');
});
