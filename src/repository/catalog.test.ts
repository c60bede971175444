import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
