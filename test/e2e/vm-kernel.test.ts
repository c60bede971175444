import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { moduleClosure, moduleDepends } from './vm-kernel.ts';
import { initScript, isStaticElf } from './vm-run.ts';

/** A fake .ko: some bytes, then a .modinfo-like string table. */
function ko(depends: string): Buffer {
  return Buffer.from(`\x7fELF junk\0license=GPL\0depends=${depends}\0name=x\0vermagic=6.1\0`, 'latin1');
}

test('moduleDepends reads the depends= string of .modinfo (dashes become underscores)', () => {
  assert.deepEqual(moduleDepends(ko('dm-mod,dm-bufio')), ['dm_mod', 'dm_bufio']);
  assert.deepEqual(moduleDepends(ko('')), []);
  assert.deepEqual(moduleDepends(Buffer.from('no modinfo here')), []);
});

test('moduleClosure orders dependencies first, skips built-ins, and names what is missing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pybackup-modules-'));
  try {
    const k = join(dir, 'kernel');
    mkdirSync(join(k, 'drivers', 'md'), { recursive: true });
    mkdirSync(join(k, 'fs'), { recursive: true });
    writeFileSync(join(k, 'drivers', 'md', 'dm-mod.ko'), ko(''));
    writeFileSync(join(k, 'drivers', 'md', 'dm-bufio.ko'), ko('dm-mod'));
    writeFileSync(join(k, 'drivers', 'md', 'dm-snapshot.ko'), ko('dm-mod,dm-bufio'));
    writeFileSync(join(k, 'fs', 'ext4.ko'), ko('crc16'));
    writeFileSync(join(dir, 'modules.builtin'), 'kernel/lib/crc16.ko\n');
    const names = moduleClosure(dir, ['dm_snapshot', 'ext4', 'dm-mod']).map((p) => p.slice(dir.length + 1));
    assert.deepEqual(names, ['kernel/drivers/md/dm-mod.ko', 'kernel/drivers/md/dm-bufio.ko', 'kernel/drivers/md/dm-snapshot.ko', 'kernel/fs/ext4.ko']);
    assert.throws(() => moduleClosure(dir, ['nosuch']), /nosuch is neither a \.ko file nor built in/);
    writeFileSync(join(k, 'fs', 'a.ko'), ko('b'));
    writeFileSync(join(k, 'fs', 'b.ko'), ko('a'));
    assert.throws(() => moduleClosure(dir, ['a']), /cycle: a -> b -> a/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('isStaticElf tells a static busybox from a dynamically linked binary', () => {
  assert.equal(isStaticElf(process.execPath), false, 'node is dynamically linked');
  if (existsSync('/usr/share/doc/busybox-static')) assert.equal(isStaticElf('/bin/busybox'), true);
  assert.equal(isStaticElf('/nonexistent'), false);
  assert.equal(isStaticElf(import.meta.filename), false, 'not ELF');
});

test('the VM init quotes paths and environment values for the shell', () => {
  const s = initScript({ modules: ['a.ko'], share: "/tmp/it's", script: '/tmp/x y.sh', env: { A: "b'c" } });
  assert.match(s, /mount -t 9p .* share \/newroot'\/tmp\/it'\\''s'/);
  assert.match(s, /env -i A='b'\\''c' chroot \/newroot/);
  assert.match(s, /insmod "\/modules\/\$m"/);
  assert.match(s, /poweroff -f\n$/);
});
