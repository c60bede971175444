import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BlobIdSet } from './blob-set.ts';

test('blob id set: add, has, grow, flags; hex and bytes agree; the zero prefix is a member like any other', () => {
  const s = new BlobIdSet(4);
  const ids = Array.from({ length: 5000 }, () => randomBytes(32));
  ids.push(Buffer.alloc(32));
  for (const id of ids) assert.equal(s.add(id), true);
  for (const id of ids) assert.equal(s.add(id.toString('hex')), false, 'hex and bytes are the same member');
  assert.equal(s.size, ids.length);
  for (const id of ids) assert.ok(s.has(id));
  for (let i = 0; i < 1000; i++) assert.equal(s.has(randomBytes(32)), false);
  assert.equal(s.flag(ids[0]!), true);
  assert.equal(s.flag(ids[0]!), false, 'flagged once');
  assert.equal(s.flag(randomBytes(32)), false, 'not a member');
  assert.ok(s.isFlagged(ids[0]!) && !s.isFlagged(ids[1]!));
  assert.equal(s.flagged, 1);
  s.clearFlags();
  assert.equal(s.flagged, 0);
  assert.ok(s.has(ids[0]!));
  // another slice of the id: ids that share the first 8 bytes differ there
  const a = Buffer.alloc(32, 1);
  const b = Buffer.from(a);
  b[9] = 2;
  const first = new BlobIdSet();
  const second = new BlobIdSet(16, 8);
  first.add(a);
  second.add(a);
  assert.equal(first.has(b), true, 'a prefix collision is one member');
  assert.equal(second.has(b), false);
});
