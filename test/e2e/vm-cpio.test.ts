import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { type CpioEntry, buildCpio, parseCpio } from './vm-cpio.ts';

const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');

test('cpio: build then parse gives the entries back (property)', () => {
  const entry: fc.Arbitrary<CpioEntry> = fc.oneof(
    fc.record({ kind: fc.constant('dir' as const), path: segment, mode: fc.integer({ min: 0, max: 0o7777 }) }),
    fc.record({ kind: fc.constant('file' as const), path: segment, data: fc.uint8Array({ maxLength: 64 }), mode: fc.integer({ min: 0, max: 0o7777 }) }),
    fc.record({ kind: fc.constant('symlink' as const), path: segment, target: fc.string({ minLength: 1, maxLength: 20 }) }),
  );
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
      const buf = buildCpio(entries);
      assert.equal(buf.length % 4, 0);
      assert.deepEqual(parseCpio(buf), entries.map((e) => ({ ...e }))); // fc.record makes null-prototype objects
    }),
  );
});

test('cpio: bad paths are refused, truncated archives are an error', () => {
  for (const path of ['', '/abs', 'a/../b', 'a//b', './a', 'a\0b']) {
    assert.throws(() => buildCpio([{ kind: 'dir', path }]), /bad cpio path/);
  }
  const buf = buildCpio([{ kind: 'file', path: 'f', data: new Uint8Array(100) }]);
  assert.throws(() => parseCpio(buf.subarray(0, 150)), /truncated/);
  assert.throws(() => parseCpio(Buffer.from('x'.repeat(200))), /magic/);
});

test('cpio: busybox cpio extracts the archive', { skip: !existsSync('/bin/busybox') && 'busybox not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pybackup-cpio-'));
  try {
    const archive = buildCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/link', target: 'hello' },
      { kind: 'file', path: 'odd-name.txt', data: Buffer.from('abc') },
    ]);
    const r = spawnSync('/bin/busybox', ['cpio', '-id'], { cwd: dir, input: archive });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(join(dir, 'bin/hello'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(statSync(join(dir, 'bin/hello')).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(dir, 'bin/link')), 'hello');
    assert.equal(readFileSync(join(dir, 'odd-name.txt'), 'utf8'), 'abc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
