import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Catalog, CatalogReader } from './catalog.ts';
import type { IndexedPack } from './index-format.ts';
import type { Mark } from './mark-format.ts';
import type { PackBlob } from './pack-format.ts';

const pid = (): string => randomBytes(32).toString('hex');
const entry = (id: Buffer, offset = 0): PackBlob => ({ id, type: 'data', offset, length: 100, rawLength: 50 });
const file = (...ids: Buffer[]) => ({ size: 1, mtimeNs: 1n, ctimeNs: 1n, inode: 1n, content: Buffer.concat(ids) });

function withCatalog(fn: (cat: Catalog, path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-marks-'));
  const path = join(dir, 'catalog.db');
  const cat = new Catalog('0'.repeat(64), { path });
  try {
    fn(cat, path);
  } finally {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('catalog marks: dedup lookups ignore doomed rows, reads find them, restated entries stay live, files naming doomed blobs are purged', () => {
  withCatalog((cat, path) => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const [P, Q, Q2] = [pid(), pid(), pid()];
    cat.addIndex('i1', [{ id: P, blobs: [entry(a), entry(b, 100)] }, { id: Q, blobs: [entry(c)] }]);
    cat.putFile(Buffer.from('/f1'), file(a));
    cat.putFile(Buffer.from('/f2'), file(c, b));
    cat.putFile(Buffer.from('/f3'), file(c));
    cat.flushFiles();
    const mark: Mark = { time: 1, packs: [P], restated: [{ id: Q2, blobs: [entry(b, 500)] }] };
    cat.addMark('m1', mark);
    assert.equal(cat.hasBlob(a), false, 'a doomed blob is not deduplicated against');
    assert.equal(cat.blob(a)?.pack, P, 'but it can still be read');
    assert.equal(cat.hasBlob(b), true, 'a restated blob stays live');
    assert.equal(cat.blob(b)?.pack, Q2);
    assert.equal(cat.blob(b)?.offset, 500);
    assert.equal(cat.hasBlob(c), true);
    assert.ok(cat.isMarkedPack(P) && !cat.isMarkedPack(Q));
    const reader = new CatalogReader(path);
    assert.equal(reader.hasBlob(a), false, 'the workers ignore it too');
    assert.equal(reader.hasBlob(b), true);
    reader.close();
    assert.equal(cat.file(Buffer.from('/f1')), undefined, 'a file naming a doomed blob left the files cache');
    assert.ok(cat.file(Buffer.from('/f2')), 'restated blobs keep their files');
    assert.equal(cat.file(Buffer.from('/f3'))?.firstInIndex, true);
    cat.putFile(Buffer.from('/f4'), file(a));
    cat.flushFiles();
    assert.equal(cat.file(Buffer.from('/f4'))?.firstInIndex, false, 'a hit on a doomed first blob is not trusted');

    // an index file naming a marked pack (a backup indexed it after the mark) enters its rows doomed
    const [R, d] = [pid(), randomBytes(32)];
    cat.addMark('m2', { time: 2, packs: [R], restated: [] });
    cat.addIndex('i2', [{ id: R, blobs: [entry(d)] }]);
    assert.equal(cat.hasBlob(d), false);
    assert.equal(cat.blob(d)?.pack, R);
    // a new live copy (a backup stored it again) replaces the doomed row
    const S = pid();
    cat.addIndex('i3', [{ id: S, blobs: [entry(a, 300)] }]);
    assert.equal(cat.hasBlob(a), true);
    assert.equal(cat.blob(a)?.pack, S);
    // a rebuild forgets the marks with everything else
    cat.clearIndex();
    assert.equal(cat.isMarkedPack(P), false);
  });
});

test('catalog marks: the result does not depend on the order index and mark files are imported in', () => {
  const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const [P, Q, Q2] = [pid(), pid(), pid()];
  const index: IndexedPack[] = [{ id: P, blobs: [entry(a), entry(b, 100)] }, { id: Q, blobs: [entry(c)] }];
  const restated: IndexedPack[] = [{ id: Q2, blobs: [entry(b, 500)] }];
  const mark: Mark = { time: 1, packs: [P, Q2], restated: [] };
  const other: Mark = { time: 2, packs: [], restated };
  const results: unknown[] = [];
  for (const order of [['i', 'm', 'o', 'j'], ['m', 'o', 'j', 'i'], ['o', 'j', 'i', 'm'], ['j', 'm', 'i', 'o']]) {
    withCatalog((cat) => {
      for (const step of order) {
        if (step === 'i') cat.addIndex('i', index);
        else if (step === 'j') cat.addIndex('j', restated);
        else if (step === 'm') cat.addMark('m', mark);
        else cat.addMark('o', other);
      }
      results.push([a, b, c].map((x) => [cat.hasBlob(x), cat.blob(x)?.pack]));
    });
  }
  // b's other place (Q2) is marked too here: doomed whatever the order (either doomed copy may be the row)
  for (const r of results as [boolean, string][][]) {
    assert.deepEqual(r[0], [false, P]);
    assert.equal(r[1]![0], false);
    assert.ok([P, Q2].includes(r[1]![1]));
    assert.deepEqual(r[2], [true, Q]);
  }
  // a restated live place wins over the doomed one in either order
  for (const first of ['index', 'mark']) {
    withCatalog((cat) => {
      const m: Mark = { time: 1, packs: [P], restated };
      if (first === 'index') cat.addIndex('i', index);
      cat.addMark('m', m);
      if (first === 'mark') cat.addIndex('i', index);
      assert.deepEqual([cat.hasBlob(a), cat.hasBlob(b), cat.blob(b)?.pack, cat.blob(a)?.pack], [false, true, Q2, P]);
    });
  }
});

test('catalog: a version 2 catalog gains the doomed column and keeps its files cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-v2-'));
  const path = join(dir, 'catalog.db');
  try {
    const db = new DatabaseSync(path);
    db.exec(`CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL); INSERT INTO meta VALUES('schema', '2');
      CREATE TABLE indexes(name TEXT PRIMARY KEY); CREATE TABLE packs(pid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, idx TEXT NOT NULL);
      CREATE TABLE blobs(id BLOB PRIMARY KEY, type INTEGER NOT NULL, pid INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL, raw INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE files(path BLOB PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, ctime INTEGER NOT NULL, inode INTEGER NOT NULL, content BLOB NOT NULL, xattrs TEXT) WITHOUT ROWID;`);
    const a = randomBytes(32);
    db.prepare("INSERT INTO packs(pid, id, idx) VALUES(1, ?, 'i')").run(randomBytes(32));
    db.prepare('INSERT INTO blobs VALUES(?, 0, 1, 0, 10, 5)').run(a);
    db.prepare('INSERT INTO files VALUES(?, 1, 1, 1, 1, ?, NULL)').run(Buffer.from('/kept'), a);
    db.close();
    const cat = new Catalog('0'.repeat(64), { path });
    assert.equal(cat.hasBlob(a), true);
    assert.equal(cat.file(Buffer.from('/kept'))?.firstInIndex, true);
    cat.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
