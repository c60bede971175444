import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { IntegrityError } from '../errors.ts';
import { SEAL_OVERHEAD, Sealer } from './aead.ts';

test('seal/open round trip for any payload and AAD', () => {
  const key = randomBytes(32);
  const a = new Sealer(key);
  const b = new Sealer(key); // another session: can open a's boxes
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }), (plain, aad) => {
      const box = a.seal(plain, aad);
      assert.equal(box.length, plain.length + SEAL_OVERHEAD);
      assert.deepEqual(new Uint8Array(b.open(box, aad)), plain);
    }),
  );
});

test('any flipped bit, wrong AAD or wrong key is detected', () => {
  const key = randomBytes(32);
  const s = new Sealer(key);
  const box = s.seal(Buffer.from('secret data'), Buffer.from('ctx'));
  for (let i = 0; i < box.length; i++) {
    const bad = Buffer.from(box);
    bad[i] = (bad[i] as number) ^ 0x10;
    assert.throws(() => s.open(bad, Buffer.from('ctx')), IntegrityError);
  }
  assert.throws(() => s.open(box, Buffer.from('other')), IntegrityError);
  assert.throws(() => new Sealer(randomBytes(32)).open(box, Buffer.from('ctx')), IntegrityError);
  assert.throws(() => s.open(box.subarray(0, 10)), IntegrityError);
});

test('two sealers draw different session ids and nonces', () => {
  const key = randomBytes(32);
  const x = new Sealer(key).seal(Buffer.from('same'));
  const y = new Sealer(key).seal(Buffer.from('same'));
  assert.notDeepEqual(x.subarray(1, 17), y.subarray(1, 17));
  assert.notDeepEqual(x, y);
});

test('sealParts and openInto agree with seal and open, across slice boundaries, and openInto detects tampering', () => {
  const key = randomBytes(32);
  const s = new Sealer(key);
  const out = { buf: Buffer.alloc(16) };
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 4 }), fc.option(fc.uint8Array({ maxLength: 32 }), { nil: undefined }), (parts, aad) => {
      const box = Buffer.concat(s.sealParts(parts, aad));
      const plain = Buffer.concat(parts);
      assert.equal(box.length, plain.length + SEAL_OVERHEAD);
      assert.deepEqual(s.open(box, aad), plain);
      assert.deepEqual(Buffer.from(s.openInto(box, out, aad)), plain);
    }),
    { numRuns: 40 },
  );
  const box = Buffer.concat(s.sealParts([randomBytes(200_000)]));
  for (const i of [0, 20, 40, 100_000, box.length - 1]) {
    const bad = Buffer.from(box);
    bad[i] = (bad[i] as number) ^ 1;
    assert.throws(() => s.openInto(bad, out), IntegrityError);
  }
});
