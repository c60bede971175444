import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Node } from '../model/node.ts';
import { entryFromNode } from '../model/tree-entry.ts';
import { TreeCatalog, treeCatalogPath } from './tree-catalog.ts';

const T = '1700000000123456789';
const nodes: Node[] = [
  { name: 'a', type: 'file', mode: 0o644, uid: 1, gid: 2, user: 'ann', group: 'staff', mtime: T, atime: T, ctime: T, size: 5, content: ['11'.repeat(32), '22'.repeat(32)] },
  { name: '\uFFFD', nameRaw: Buffer.from([0xff]).toString('base64'), type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, atime: T, ctime: T, subtree: '33'.repeat(32) },
  { name: 'l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: '-5', atime: T, ctime: T, linkTarget: 'x', linkTargetRaw: Buffer.from([0x78, 0xfe]).toString('base64') },
  { name: 'e', type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: T, atime: T, ctime: T, size: 0, content: [] },
];

test('entries round-trip through the tree catalog, and survive a reopen', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-treecat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = treeCatalogPath(join(dir, 'catalog.db'));
  assert.equal(path, join(dir, 'trees.db'));
  const id = Buffer.alloc(32, 7);
  const c = TreeCatalog.open(path);
  assert.equal(c.entries(id), undefined);
  const entries = nodes.map(entryFromNode);
  c.put(id, entries);
  c.put(id, entries); // a second put (another process) is ignored
  c.put(Buffer.alloc(32, 8), []);
  assert.deepEqual(c.entries(id), entries);
  assert.deepEqual(c.entries(Buffer.alloc(32, 8)), []);
  assert.equal(c.treeCount(), 2);
  c.close();
  const again = TreeCatalog.open(path);
  assert.deepEqual(again.entries(id), entries);
  again.close();
});

test('a damaged file is replaced instead of failing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-treecat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'trees.db');
  writeFileSync(path, Buffer.alloc(8192, 0x41));
  const c = TreeCatalog.open(path);
  assert.equal(c.treeCount(), 0);
  c.close();
});
