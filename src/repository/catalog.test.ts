import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Catalog } from './catalog.ts';

test('files cache: a hit says whether its first blob is indexed; entries and xattrs round trip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-cat-'));
  const cat = new Catalog('0'.repeat(64), { path: join(dir, 'catalog.db') });
  try {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const path = Buffer.from('/data/f\xff', 'latin1');
    cat.putFile(path, { size: 5, mtimeNs: 12345678901234567n, ctimeNs: 2n, inode: 3n, content: Buffer.concat([a, b]), xattrs: '[{"name":"x","value":"y"}]' });
    cat.putFile(Buffer.from('/data/empty'), { size: 0, mtimeNs: 1n, ctimeNs: 1n, inode: 4n, content: Buffer.alloc(0) });
    cat.flushFiles();
    let f = cat.file(path);
    assert.ok(f);
    assert.equal(f.firstInIndex, false);
    assert.equal(f.mtimeNs, 12345678901234567n);
    assert.equal(f.xattrs, '[{"name":"x","value":"y"}]');
    assert.deepEqual(f.content, Buffer.concat([a, b]));
    cat.addIndex('i1', [{ id: 'aa'.repeat(32), blobs: [{ id: a, type: 'data', offset: 0, length: 50, rawLength: 5 }] }]);
    f = cat.file(path);
    assert.equal(f?.firstInIndex, true);
    assert.equal(cat.hasBlob(b), false);
    assert.equal(cat.file(Buffer.from('/data/empty'))?.firstInIndex, false);
    assert.equal(cat.file(Buffer.from('/nope')), undefined);
  } finally {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged catalog file is moved aside with a warning and the catalog starts empty (it is only a cache)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'catalog.db');
  const c = new Catalog('r', { path });
  c.addIndex('a'.repeat(64), [{ id: 'b'.repeat(64), blobs: [{ id: randomBytes(32), type: 'data', offset: 0, length: 10, rawLength: 10 }] }]);
  c.close();
  writeFileSync(path, 'this is not a database, not even close; '.repeat(200));
  const warnings: string[] = [];
  const again = new Catalog('r', { path, onWarning: (m) => warnings.push(m) });
  assert.equal(again.counts().blobs, 0);
  assert.equal(again.indexNames().size, 0);
  again.close();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /was damaged .*moved to .*catalog\.db\.damaged-\d+ and is rebuilt/);
  assert.ok(readdirSync(dir).some((n) => n.startsWith('catalog.db.damaged-')));
});

test('a catalog that cannot be opened at all is a plain IO error, not a bug', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'catalog.db')); // a directory where the database file should be
  assert.throws(() => new Catalog('r', { path: join(dir, 'catalog.db') }), (e: Error & { code?: string }) => e.code === 'IO' && /cannot open the local catalog .*PYBACKUP_CACHE_DIR/.test(e.message));
});
