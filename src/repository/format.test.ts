import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { Sealer } from '../crypto/aead.ts';
import { IntegrityError } from '../errors.ts';
import { decodeIndex, encodeIndex, type IndexedPack } from './index-format.ts';
import { PackBuilder, readPackHeader } from './pack-format.ts';
import { decodePayload, encodePayload } from './payload.ts';
import { openBlob } from './blob-codec.ts';
import { blobIdOf } from '../crypto/master-key.ts';

test('payload framing round trips with and without compression', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100_000 }), fc.integer({ min: 0, max: 5 }), (data, level) => {
      assert.deepEqual(new Uint8Array(decodePayload(encodePayload(data, { level }))), data);
    }),
    { numRuns: 60 },
  );
  const text = Buffer.from('abc '.repeat(100_000));
  assert.ok(encodePayload(text, { level: 3 }).length < text.length / 10, 'text compresses');
  const noise = randomBytes(300_000);
  assert.equal(encodePayload(noise, { level: 3 })[0], 0, 'incompressible data is stored raw');
});

test('garbage payloads fail cleanly', () => {
  assert.throws(() => decodePayload(Buffer.from([1, 1, 2, 3])), IntegrityError);
  assert.throws(() => decodePayload(Buffer.from([9])), IntegrityError);
  assert.throws(() => decodePayload(Buffer.alloc(0)), IntegrityError);
});

test('pack build/read round trip; every blob opens and checks its id', () => {
  const key = randomBytes(32);
  const idKey = randomBytes(32);
  const s = new Sealer(key);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 5000 }), { minLength: 1, maxLength: 20 }), (blobs) => {
      const pb = new PackBuilder(s);
      const ids = blobs.map((b, i) => {
        const id = blobIdOf(idKey, b);
        pb.addPayload(id, i % 2 ? 'tree' : 'data', encodePayload(b, { level: 1 }), b.length);
        return id;
      });
      const p = pb.finish();
      const header = readPackHeader(p.data, s);
      assert.deepEqual(header, p.blobs);
      header.forEach((h, i) => {
        assert.deepEqual(h.id, ids[i]);
        const plain = openBlob(p.data.subarray(h.offset, h.offset + h.length), s, idKey, h.id, h.rawLength);
        assert.deepEqual(new Uint8Array(plain), blobs[i]);
      });
    }),
    { numRuns: 40 },
  );
});

test('a blob stored under the wrong id is detected', () => {
  const s = new Sealer(randomBytes(32));
  const idKey = randomBytes(32);
  const pb = new PackBuilder(s);
  const b = Buffer.from('hello');
  const wrong = blobIdOf(idKey, Buffer.from('other'));
  pb.addPayload(wrong, 'data', encodePayload(b, { level: 0 }), b.length);
  const p = pb.finish();
  const h = p.blobs[0]!;
  assert.throws(() => openBlob(p.data.subarray(h.offset, h.offset + h.length), s, idKey, wrong, h.rawLength), IntegrityError);
});

test('truncated or corrupt pack headers are rejected', () => {
  const s = new Sealer(randomBytes(32));
  const pb = new PackBuilder(s);
  pb.addPayload(randomBytes(32), 'data', encodePayload(Buffer.from('x'), { level: 0 }), 1);
  const p = pb.finish();
  assert.throws(() => readPackHeader(p.data.subarray(0, p.data.length - 1), s), IntegrityError);
  assert.throws(() => readPackHeader(Buffer.alloc(3), s), IntegrityError);
  const bad = Buffer.from(p.data);
  bad.writeUInt32LE(0xffffffff, bad.length - 4);
  assert.throws(() => readPackHeader(bad, s), IntegrityError);
});

const arbPack = fc.record({
  id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  blobs: fc.array(
    fc.record({
      id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
      type: fc.constantFrom('data' as const, 'tree' as const),
      offset: fc.nat({ max: 0xffffffff }),
      length: fc.nat({ max: 0xffffffff }),
      rawLength: fc.nat({ max: 0xffffffff }),
    }),
    { maxLength: 10 },
  ),
});

test('index encode/decode round trip', () => {
  fc.assert(
    fc.property(fc.array(arbPack, { maxLength: 8 }), (generated: IndexedPack[]) => {
      const packs = generated.map((p) => ({ id: p.id, blobs: p.blobs.map((b) => ({ ...b })) }));
      assert.deepEqual([...decodeIndex(encodeIndex(packs))], packs);
    }),
  );
});

test('index decoding rejects hostile counts and truncation', () => {
  const good = encodeIndex([{ id: 'ab'.repeat(32), blobs: [{ id: randomBytes(32), type: 'data', offset: 0, length: 10, rawLength: 5 }] }]);
  assert.throws(() => [...decodeIndex(good.subarray(0, good.length - 1))], IntegrityError);
  const huge = Buffer.from(good);
  huge.writeUInt32LE(0xffffffff, 8 + 32);
  assert.throws(() => [...decodeIndex(huge)], IntegrityError);
  assert.throws(() => [...decodeIndex(Buffer.concat([good, Buffer.from([0])]))], IntegrityError);
  assert.throws(() => [...decodeIndex(Buffer.from('garbage!'))], IntegrityError);
});
