import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { Catalog, type CachedFile } from './catalog.ts';

function setup(t: TestContext): { path: string; cat: Catalog } {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-sess-'));
  const path = join(dir, 'catalog.db');
  const cat = new Catalog('r', { path });
  t.after(() => {
    cat.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, cat };
}

const blob = randomBytes(32);
const PACK = 'ab'.repeat(32);
const row = (inode: bigint): CachedFile => ({ size: 1, mtimeNs: 1n, ctimeNs: 1n, inode, content: blob });
const indexBlob = (cat: Catalog, name: string): void => cat.addIndex(name, [{ id: PACK, blobs: [{ id: blob, type: 'data', offset: 0, length: 40, rawLength: 1 }] }]);
const trusted = (cat: Catalog, p: string): boolean | undefined => cat.file(Buffer.from(p))?.trusted;

test('files-cache rows are trusted only once their session ended at an unchanged blob generation', (t) => {
  const { cat } = setup(t);
  indexBlob(cat, 'i1');
  cat.putFile(Buffer.from('/none'), row(1n)); // written outside any session
  cat.beginSession();
  cat.putFile(Buffer.from('/a'), row(2n));
  cat.flushFiles();
  assert.equal(trusted(cat, '/a'), false, 'the session has not ended: its blobs may not be indexed yet');
  assert.equal(cat.endSession(), true);
  assert.equal(trusted(cat, '/a'), true);
  assert.equal(cat.file(Buffer.from('/a'))?.firstInIndex, true);
  assert.equal(trusted(cat, '/none'), false);

  // a session that never ends (a crashed backup): its rows stay untrusted
  cat.beginSession();
  cat.putFile(Buffer.from('/crashed'), row(3n));
  cat.flushFiles();
  assert.equal(trusted(cat, '/crashed'), false);
});

test('a prune mark or a cleared index withdraws trust; a confirmed hit regains it in the next session', (t) => {
  const { cat } = setup(t);
  indexBlob(cat, 'i1');
  cat.beginSession();
  cat.putFile(Buffer.from('/a'), row(1n));
  assert.equal(cat.endSession(), true);
  assert.equal(trusted(cat, '/a'), true);

  cat.addMark('m1', { time: 1, packs: ['cd'.repeat(32)], restated: [] }); // dooms nothing this row names, still bumps
  assert.equal(trusted(cat, '/a'), false);
  cat.beginSession();
  const hit = cat.file(Buffer.from('/a'));
  assert.ok(hit);
  assert.equal(hit.firstInIndex, true, 'untrusted rows still get their first blob checked');
  cat.confirmFile(Buffer.from('/a'), hit);
  assert.equal(cat.endSession(), true);
  assert.equal(trusted(cat, '/a'), true);

  cat.clearIndex();
  const after = cat.file(Buffer.from('/a'));
  assert.equal(after?.trusted, false);
  assert.equal(after?.firstInIndex, false, 'the blob is gone from the index: the hit must fail');
});

test('a session that overlapped a removal does not trust its rows', (t) => {
  const { path, cat } = setup(t);
  indexBlob(cat, 'i1');
  cat.beginSession();
  cat.putFile(Buffer.from('/a'), row(1n));
  const other = new Catalog('r', { path }); // another process imports a prune's mark meanwhile
  other.addMark('m1', { time: 1, packs: [PACK], restated: [] });
  other.close();
  assert.equal(cat.endSession(), false);
  assert.equal(trusted(cat, '/a'), false);
  assert.equal(cat.file(Buffer.from('/a'))?.firstInIndex, false, 'its blob is doomed');
});

test('a version-3 catalog keeps its files cache, untrusted, and its blob index', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-sess-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'catalog.db');
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL); INSERT INTO meta VALUES('schema', '3');
    CREATE TABLE indexes(name TEXT PRIMARY KEY); CREATE TABLE packs(pid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, idx TEXT NOT NULL);
    CREATE TABLE blobs(id BLOB PRIMARY KEY, type INTEGER NOT NULL, pid INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL, raw INTEGER NOT NULL, doomed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE TABLE marked_packs(id BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE files(path BLOB PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, ctime INTEGER NOT NULL, inode INTEGER NOT NULL, content BLOB NOT NULL, xattrs TEXT) WITHOUT ROWID;
    INSERT INTO packs VALUES(1, x'${PACK}', 'i1'); INSERT INTO indexes VALUES('i1');`);
  db.prepare('INSERT INTO blobs VALUES(?, 0, 1, 0, 40, 1, 0)').run(blob);
  db.prepare("INSERT INTO files VALUES(CAST('/old' AS BLOB), 1, 1, 1, 1, ?, NULL)").run(blob);
  db.close();
  const cat = new Catalog('r', { path });
  try {
    const f = cat.file(Buffer.from('/old'));
    assert.equal(f?.trusted, false);
    assert.equal(f?.firstInIndex, true);
    assert.equal(cat.hasBlob(blob), true);
    cat.beginSession();
    cat.confirmFile(Buffer.from('/old'), f);
    assert.equal(cat.endSession(), true);
    assert.equal(trusted(cat, '/old'), true);
  } finally {
    cat.close();
  }
});

test('a session number is never handed out twice, so a new session cannot vouch for an old one\'s rows', (t) => {
  const { cat } = setup(t);
  indexBlob(cat, 'i1');
  cat.beginSession();
  cat.putFile(Buffer.from('/old'), row(1n)); // written by the newest session, which then ends
  assert.equal(cat.endSession(), true);
  cat.clearIndex(); // its blobs leave the index: the old session is stale
  assert.equal(trusted(cat, '/old'), false);
  cat.beginSession(); // forgets stale sessions, but must not free the old number
  assert.equal(cat.endSession(), true);
  assert.equal(trusted(cat, '/old'), false, 'a row of a stale session stays untrusted');
});
