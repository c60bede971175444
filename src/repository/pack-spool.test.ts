import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Sealer } from '../crypto/aead.ts';
import { blobIdOf } from '../crypto/master-key.ts';
import { openBlob } from './blob-codec.ts';
import { readPackHeader } from './pack-format.ts';
import { PackSpooler, cleanSpool, removeSpool, spoolPrefix } from './pack-spool.ts';
import { encodePayloadParts } from './payload.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'pyb-spool-'));

test('a spooled pack is a valid pack: header, blob ranges, name = SHA-256 of the file', () => {
  const dir = tmp();
  try {
    const sealer = new Sealer(randomBytes(32));
    const idKey = randomBytes(32);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 3 }), (blobs, level) => {
        const sp = new PackSpooler(sealer, dir);
        const scratch = { buf: Buffer.alloc(0) };
        const ids = blobs.map((b, i) => {
          const id = blobIdOf(idKey, b);
          sp.addPayload(id, i % 3 === 0 ? 'tree' : 'data', encodePayloadParts(b, { level }, scratch), b.length);
          return id;
        });
        const p = sp.finish();
        const data = readFileSync(p.path);
        assert.equal(data.length, p.size);
        assert.equal(createHash('sha256').update(data).digest('hex'), p.id);
        const header = readPackHeader(data, sealer);
        assert.deepEqual(header.map((h) => [h.offset, h.length, h.type]), p.blobs.map((h) => [h.offset, h.length, h.type]));
        header.forEach((h, i) => {
          const plain = openBlob(data.subarray(h.offset, h.offset + h.length), sealer, idKey, ids[i] as Buffer, h.rawLength);
          assert.deepEqual(new Uint8Array(plain), blobs[i]);
        });
        rmSync(p.path);
      }),
      { numRuns: 40 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a blob sealed into more pieces than writev takes at once is written whole', () => {
  const dir = tmp();
  try {
    const sealer = new Sealer(randomBytes(32));
    const parts = Array.from({ length: 2500 }, (_, i) => Buffer.alloc(100, i & 0xff));
    const sp = new PackSpooler(sealer, dir);
    const id = randomBytes(32);
    sp.addPayload(id, 'data', [Buffer.from([0]), ...parts], 250_000);
    const p = sp.finish();
    const data = readFileSync(p.path);
    const [h] = readPackHeader(data, sealer);
    const plain = sealer.open(data.subarray(h!.offset, h!.offset + h!.length));
    assert.deepEqual(plain.subarray(1), Buffer.concat(parts));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('discard removes the pack being built; removeSpool and cleanSpool remove only what is theirs or stale', () => {
  const dir = tmp();
  try {
    const sealer = new Sealer(randomBytes(32));
    const mine = spoolPrefix();
    const sp = new PackSpooler(sealer, dir, mine);
    sp.addPayload(randomBytes(32), 'data', Buffer.from([0, 1, 2, 3]), 3);
    assert.equal(readdirSync(dir).length, 1);
    sp.discard();
    assert.equal(readdirSync(dir).length, 0);

    const live = join(dir, `${spoolPrefix('live')}aaaa`);
    const dead = join(dir, `${spoolPrefix('dead', 2 ** 22 + 12345)}bbbb`);
    const ownAborted = join(dir, `${mine}cccc`);
    const foreign = join(dir, '.spool-otherhost-1-x-dddd');
    const unrelated = join(dir, '00');
    for (const f of [live, dead, ownAborted, foreign, unrelated]) writeFileSync(f, 'x');
    assert.equal(cleanSpool(dir), 1, 'only the dead process file goes');
    assert.ok(!existsSync(dead) && existsSync(live) && existsSync(foreign) && existsSync(unrelated));
    removeSpool(dir, mine);
    assert.ok(!existsSync(ownAborted) && existsSync(live));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
