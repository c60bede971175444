import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IntegrityError } from '../errors.ts';
import { encodeIndex } from './index-format.ts';
import { type Mark, decodeIndexDirFile, decodeMark, encodeMark } from './mark-format.ts';

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const arbPack = fc.record({
  id: hex32,
  blobs: fc.array(
    fc.record({
      id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
      type: fc.constantFrom('data' as const, 'tree' as const),
      offset: fc.nat({ max: 0xffffffff }),
      length: fc.nat({ max: 0xffffffff }),
      rawLength: fc.nat({ max: 0xffffffff }),
    }),
    { maxLength: 6 },
  ),
});
const arbMark = fc.record({ time: fc.nat({ max: Number.MAX_SAFE_INTEGER }), packs: fc.array(hex32, { maxLength: 10 }), restated: fc.array(arbPack, { maxLength: 5 }) });

test('mark encode/decode round trip; the index directory reader tells marks from index files', () => {
  fc.assert(
    fc.property(arbMark, (generated: Mark) => {
      // plain objects (fast-check's records are not), as the decoder makes them
      const m: Mark = { time: generated.time, packs: [...generated.packs], restated: generated.restated.map((p) => ({ id: p.id, blobs: p.blobs.map((b) => ({ ...b })) })) };
      const enc = encodeMark(m);
      assert.deepEqual(decodeMark(enc), m);
      const file = decodeIndexDirFile(enc);
      assert.equal(file.kind, 'mark');
      assert.equal(decodeIndexDirFile(encodeIndex(m.restated)).kind, 'index');
    }),
  );
});

test('mark decoding rejects truncation, hostile counts, trailing bytes and other magics', () => {
  fc.assert(
    fc.property(arbMark, fc.nat(), (m: Mark, cut: number) => {
      const enc = encodeMark(m);
      const at = cut % enc.length;
      assert.throws(() => decodeMark(enc.subarray(0, at)), IntegrityError);
      assert.throws(() => decodeMark(Buffer.concat([enc, Buffer.from([7])])), IntegrityError);
    }),
  );
  const good = encodeMark({ time: 1, packs: ['ab'.repeat(32)], restated: [] });
  const hostile = Buffer.from(good);
  hostile.writeUInt32LE(0xffffffff, 12);
  assert.throws(() => decodeMark(hostile), /impossible pack count/);
  const late = Buffer.from(good);
  late.writeBigUInt64LE(2n ** 63n, 4);
  assert.throws(() => decodeMark(late), /impossible time/);
  assert.throws(() => decodeIndexDirFile(Buffer.from('PBX1xxxxxxxxxxxx')), IntegrityError);
});
