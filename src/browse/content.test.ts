import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { Node } from '../model/node.ts';
import { ContentReader, blobAt } from './content.ts';
import { RepoBuilder } from './test-fixture.ts';

let b: RepoBuilder;
let file: Node;
let whole: Buffer;
const sizes = [1000, 1, 4096, 333, 70_000, 2];
before(async () => {
  b = await RepoBuilder.create();
  const chunks = sizes.map((n) => randomBytes(n));
  whole = Buffer.concat(chunks);
  file = b.file('f', chunks);
  await b.flush();
});
after(async () => await b.done());

test('layout takes blob sizes from the index', () => {
  const r = new ContentReader(b.repo);
  const l = r.layout(file.content ?? []);
  assert.equal(l.size, whole.length);
  assert.deepEqual([...l.starts], [0, 1000, 1001, 5097, 5430, 75_430, 75_432]);
  assert.equal(r.layout(file.content ?? []), l, 'memoized per content array');
  assert.equal(r.stats.blobsLoaded, 0, 'no data was read to find the sizes');
});

test('blobAt finds the blob holding a byte', () => {
  const starts = Float64Array.from([0, 10, 10, 25, 30]);
  assert.equal(blobAt(starts, 0), 0);
  assert.equal(blobAt(starts, 9), 0);
  assert.equal(blobAt(starts, 10), 2); // the empty blob 1 is skipped
  assert.equal(blobAt(starts, 29), 3);
});

test('readRange across blob boundaries equals the same slice of the whole file', async () => {
  const r = new ContentReader(b.repo, { cacheBytes: 8 << 10 });
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: whole.length + 10 }), fc.nat({ max: whole.length + 10 }), async (off, len) => {
      const got = await r.readRange(file.content ?? [], off, len);
      assert.ok(got.equals(whole.subarray(off, Math.min(off + len, whole.length))), `range ${off}+${len}`);
    }),
    { numRuns: 300 },
  );
});

test('readRange loads only the blobs the range touches', async () => {
  const r = new ContentReader(b.repo);
  const got = await r.readRange(file, 999, 3); // last byte of blob 0, blob 1, first byte of blob 2 (by node)
  assert.ok(got.equals(whole.subarray(999, 1002)));
  assert.equal(r.stats.blobsLoaded, 3);
  await r.readRange(file.content ?? [], 1001, 10);
  assert.equal(r.stats.blobsLoaded, 3, 'blob 2 came from the cache');
  assert.equal((await r.readRange(file.content ?? [], whole.length, 5)).length, 0);
  await assert.rejects(r.readRange(file.content ?? [], -1, 5), /invalid offset/);
  await assert.rejects(r.readRange(file.content ?? [], 0, 1.5), /invalid length/);
});

test('stream yields every blob in order', async () => {
  const r = new ContentReader(b.repo, { readAhead: 2 });
  const parts: Buffer[] = [];
  for await (const p of r.stream(file.content ?? [])) parts.push(p);
  assert.deepEqual(
    parts.map((p) => p.length),
    sizes,
  );
  assert.ok(Buffer.concat(parts).equals(whole));
});

test('a blob missing from the index fails clearly', async () => {
  const r = new ContentReader(b.repo);
  assert.throws(() => r.layout(['ab'.repeat(32)]), /is not in the index/);
  const it = r.stream(['ab'.repeat(32)]);
  await assert.rejects(it.next(), /is not in the index/);
});
