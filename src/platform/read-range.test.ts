import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFileRange } from './read-range.ts';

test('readFileRange reads a range into a reused buffer, grows it to the next MiB, and refuses short reads', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-range-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.alloc(3 << 20, 7);
  data.write('hello', 1_500_000);
  writeFileSync(join(dir, 'f'), data);
  const into = { buf: Buffer.alloc(16) };
  assert.equal(readFileRange(join(dir, 'f'), 1_500_000, 5, into).toString(), 'hello');
  assert.equal(into.buf.length, 16); // big enough: kept
  const big = readFileRange(join(dir, 'f'), 0, (1 << 20) + 1, into);
  assert.equal(into.buf.length, 2 << 20);
  assert.ok(big.equals(data.subarray(0, (1 << 20) + 1)));
  assert.throws(() => readFileRange(join(dir, 'f'), (3 << 20) - 2, 5, into), /short read \(2 of 5 bytes/);
  assert.throws(() => readFileRange(join(dir, 'missing'), 0, 1, into), /ENOENT/);
});
