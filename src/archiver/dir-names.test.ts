import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { namesFromLatin1, readDirNames } from './dir-names.ts';

test('latin1 names come back as the same bytes, in Buffer.compare order, for any bytes', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 12 }), { selector: (b) => Buffer.from(b).toString('hex') }), (raw) => {
      const bufs = raw.map((b) => Buffer.from(b));
      const got = namesFromLatin1(bufs.map((b) => b.toString('latin1')));
      assert.deepEqual(got, bufs.toSorted(Buffer.compare));
    }),
  );
});

test('readDirNames: names that are not UTF-8 keep their bytes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-names-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const odd = Buffer.concat([Buffer.from('odd'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]);
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), odd]), 'x');
  writeFileSync(join(dir, 'é.txt'), 'x');
  writeFileSync(join(dir, 'A'), 'x');
  const names = readDirNames(Buffer.from(dir));
  assert.deepEqual(names, [Buffer.from('A'), odd, Buffer.from('é.txt')].toSorted(Buffer.compare));
});
