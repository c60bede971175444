import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PyBackupError } from '../errors.ts';
import {
  FILE_TYPE_BITS,
  LibcError,
  ffiAvailable,
  getXattr,
  listXattrNames,
  major,
  makedev,
  minor,
  mkfifo,
  mknod,
  readXattrs,
  readXattrsFd,
  setTimesFd,
  setTimesNs,
  setXattr,
  setXattrScratchSizeForTest,
} from './libc.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'pyb-libc-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function mtimeNs(p: string | Buffer, follow = false): bigint {
  return (follow ? fs.statSync(p, { bigint: true }) : fs.lstatSync(p, { bigint: true })).mtimeNs;
}
function atimeNs(p: string | Buffer): bigint {
  return fs.lstatSync(p, { bigint: true }).atimeNs;
}
function expectErrno(fn: () => unknown, errno: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PyBackupError, `not a PyBackupError: ${String(e)}`);
    assert.ok(e instanceof LibcError);
    assert.equal(e.code, 'IO');
    assert.equal(e.errno, errno, e.message);
    return true;
  });
}

/** Non-UTF-8 name (contains a lone 0xff byte) inside `dir`. */
function byteName(name: string): Buffer {
  return Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x66, 0xff, 0xfe]), Buffer.from(name)]);
}

let xattrSupport: boolean | undefined;
function xattrsSupported(): boolean {
  if (xattrSupport !== undefined) return xattrSupport;
  const probe = join(dir, 'xattr-probe');
  fs.writeFileSync(probe, '');
  try {
    setXattr(probe, 'user.probe', Buffer.from('1'));
    xattrSupport = true;
  } catch (e) {
    if (e instanceof LibcError && (e.errno === 'ENOTSUP' || e.errno === 'EPERM')) xattrSupport = false;
    else throw e;
  }
  return xattrSupport;
}

test('ffi is available in this runtime', () => {
  assert.equal(ffiAvailable(), true);
});

describe('setTimesNs', () => {
  test('exact ns mtime and atime round trip on a file', () => {
    const f = join(dir, 'times-file');
    fs.writeFileSync(f, 'x');
    setTimesNs(f, 1_600_000_000_111_111_111n, 1_700_000_000_123_456_789n, false);
    assert.equal(mtimeNs(f), 1_700_000_000_123_456_789n);
    assert.equal(atimeNs(f), 1_600_000_000_111_111_111n);
  });

  test('undefined atime is left untouched (UTIME_OMIT)', () => {
    const f = join(dir, 'times-omit');
    fs.writeFileSync(f, 'x');
    setTimesNs(f, 1_500_000_000_000_000_001n, 1_500_000_000_000_000_002n, true);
    setTimesNs(f, undefined, 1_700_000_000_999_999_999n, true);
    assert.equal(atimeNs(f), 1_500_000_000_000_000_001n);
    assert.equal(mtimeNs(f), 1_700_000_000_999_999_999n);
  });

  test('exact ns round trip on a directory', () => {
    const d = join(dir, 'times-dir');
    fs.mkdirSync(d);
    setTimesNs(d, undefined, 1_234_567_890_987_654_321n, false);
    assert.equal(mtimeNs(d), 1_234_567_890_987_654_321n);
  });

  test('pre-epoch times', () => {
    const f = join(dir, 'times-negative');
    fs.writeFileSync(f, 'x');
    setTimesNs(f, undefined, -1_500_000_001n, false);
    assert.equal(mtimeNs(f), -1_500_000_001n);
  });

  test('through a descriptor (futimens), including a negative time; false on a closed descriptor', () => {
    const f = join(dir, 'times-fd');
    fs.writeFileSync(f, 'x');
    const fd = fs.openSync(f, 'r+');
    try {
      assert.equal(setTimesFd(fd, 1_600_000_000_111_111_111n, -1_500_000_001n), true);
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(mtimeNs(f), -1_500_000_001n);
    assert.equal(fs.statSync(f, { bigint: true }).atimeNs, 1_600_000_000_111_111_111n);
    assert.equal(setTimesFd(fd, 1n, 1n), false);
  });

  test('symlink without following: only the link changes', () => {
    const target = join(dir, 'times-target');
    const link = join(dir, 'times-link');
    fs.writeFileSync(target, 'x');
    fs.symlinkSync(target, link);
    setTimesNs(target, undefined, 1_111_111_111_111_111_111n, true);
    setTimesNs(link, undefined, 1_222_222_222_222_222_222n, false);
    assert.equal(mtimeNs(link), 1_222_222_222_222_222_222n);
    assert.equal(mtimeNs(target), 1_111_111_111_111_111_111n);
    // following: the target changes, the link does not
    setTimesNs(link, undefined, 1_333_333_333_333_333_333n, true);
    assert.equal(mtimeNs(target), 1_333_333_333_333_333_333n);
    assert.equal(mtimeNs(link), 1_222_222_222_222_222_222n);
  });

  test('dangling symlink without following', () => {
    const link = join(dir, 'times-dangling');
    fs.symlinkSync(join(dir, 'does-not-exist'), link);
    setTimesNs(link, undefined, 1_444_444_444_000_000_004n, false);
    assert.equal(mtimeNs(link), 1_444_444_444_000_000_004n);
    expectErrno(() => setTimesNs(link, undefined, 1n, true), 'ENOENT');
  });

  test('non-UTF-8 path', () => {
    const p = byteName('-times');
    fs.writeFileSync(p, 'x');
    setTimesNs(p, undefined, 1_700_000_000_000_000_777n, false);
    assert.equal(mtimeNs(p), 1_700_000_000_000_000_777n);
  });

  test('missing path: ENOENT', () => {
    expectErrno(() => setTimesNs(join(dir, 'missing'), undefined, 0n, false), 'ENOENT');
    expectErrno(() => setTimesNs(Buffer.from(join(dir, 'missing')), 1n, 0n, true), 'ENOENT');
  });

  test('NUL inside a path is rejected as EINVAL', () => {
    expectErrno(() => setTimesNs(`${dir}/a\0b`, undefined, 0n, false), 'EINVAL');
    expectErrno(() => setTimesNs(Buffer.from([0x61, 0, 0x62]), undefined, 0n, false), 'EINVAL');
  });
});

describe('xattrs', () => {
  test('set/list/get round trip with binary values', (t) => {
    if (!xattrsSupported()) return t.skip('filesystem does not support user xattrs');
    const f = join(dir, 'xattr-file');
    fs.writeFileSync(f, 'x');
    assert.deepEqual(listXattrNames(f), []);
    assert.deepEqual(readXattrs(f), []);
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    setXattr(f, 'user.zeta', all);
    setXattr(f, Buffer.from('user.alpha'), new Uint8Array([0, 0, 0xff, 0]));
    setXattr(f, 'user.empty', new Uint8Array(0));
    const names = listXattrNames(f).map((n) => n.toString());
    assert.deepEqual(names.toSorted(), ['user.alpha', 'user.empty', 'user.zeta']);
    assert.deepEqual(getXattr(f, 'user.zeta'), all);
    assert.deepEqual(getXattr(f, 'user.alpha'), Buffer.from([0, 0, 0xff, 0]));
    assert.deepEqual(getXattr(f, 'user.empty'), Buffer.alloc(0));
    assert.equal(getXattr(f, 'user.nope'), undefined);
    // replace
    setXattr(f, 'user.alpha', Buffer.from('v2'));
    assert.deepEqual(getXattr(f, 'user.alpha'), Buffer.from('v2'));
    // readXattrs: sorted by name bytes, filter applied
    const got = readXattrs(f);
    assert.deepEqual(
      got.map((x) => x.name.toString()),
      ['user.alpha', 'user.empty', 'user.zeta'],
    );
    assert.deepEqual(got[2]?.value, all);
    const filtered = readXattrs(f, (n) => !n.toString().startsWith('user.e'));
    assert.deepEqual(
      filtered.map((x) => x.name.toString()),
      ['user.alpha', 'user.zeta'],
    );
  });

  test('many attributes and large values grow the scratch buffer', (t) => {
    if (!xattrsSupported()) return t.skip('filesystem does not support user xattrs');
    const f = join(dir, 'xattr-many');
    fs.writeFileSync(f, 'x');
    setXattrScratchSizeForTest(16);
    try {
      const expected = new Map<string, Buffer>();
      for (let i = 0; i < 60; i++) {
        const name = `user.attribute-number-${String(i).padStart(3, '0')}`;
        const value = Buffer.from([i, 0, 255 - i, 0x80 | i]);
        setXattr(f, name, value);
        expected.set(name, value);
      }
      const names = listXattrNames(f).map((n) => n.toString());
      assert.equal(names.length, 60);
      assert.deepEqual(names.toSorted(), [...expected.keys()].toSorted());
      for (const [name, value] of expected) assert.deepEqual(getXattr(f, name), value);
      const fd = fs.openSync(f, 'r');
      try {
        assert.deepEqual(readXattrsFd(fd, f), readXattrs(f), 'through a descriptor: the same attributes, same order');
      } finally {
        fs.closeSync(fd);
      }
      const all = readXattrs(f);
      assert.deepEqual(
        all.map((x) => x.name.toString()),
        [...expected.keys()].toSorted(),
      );

      // a single value larger than the (grown) scratch
      setXattrScratchSizeForTest(16);
      const big = Buffer.alloc(2000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      const g = join(dir, 'xattr-big');
      fs.writeFileSync(g, 'x');
      setXattr(g, 'user.big', big);
      assert.deepEqual(getXattr(g, 'user.big'), big);
    } finally {
      setXattrScratchSizeForTest(4096);
    }
  });

  test('non-UTF-8 path and attribute name', (t) => {
    if (!xattrsSupported()) return t.skip('filesystem does not support user xattrs');
    const p = byteName('-xattr');
    fs.writeFileSync(p, 'x');
    const name = Buffer.concat([Buffer.from('user.'), Buffer.from([0xff, 0x01, 0x80])]);
    setXattr(p, name, Buffer.from([1, 2, 3]));
    assert.deepEqual(listXattrNames(p), [name]);
    assert.deepEqual(getXattr(p, name), Buffer.from([1, 2, 3]));
    assert.deepEqual(readXattrs(p), [{ name, value: Buffer.from([1, 2, 3]) }]);
  });

  test('symlinks are not followed', (t) => {
    if (!xattrsSupported()) return t.skip('filesystem does not support user xattrs');
    const target = join(dir, 'xattr-target');
    const link = join(dir, 'xattr-link');
    fs.writeFileSync(target, 'x');
    fs.symlinkSync(target, link);
    setXattr(target, 'user.on-target', Buffer.from('t'));
    assert.deepEqual(listXattrNames(link), []);
    assert.equal(getXattr(link, 'user.on-target'), undefined);
    // Linux refuses user.* attributes on symlinks
    expectErrno(() => setXattr(link, 'user.x', Buffer.from('v')), 'EPERM');
  });

  test('errors carry errno', (t) => {
    const missing = join(dir, 'xattr-missing');
    expectErrno(() => listXattrNames(missing), 'ENOENT');
    expectErrno(() => getXattr(missing, 'user.a'), 'ENOENT');
    expectErrno(() => setXattr(missing, 'user.a', Buffer.from('v')), 'ENOENT');
    expectErrno(() => readXattrs(missing), 'ENOENT');
    if (!xattrsSupported()) return t.skip('filesystem does not support user xattrs');
    const f = join(dir, 'xattr-errors');
    fs.writeFileSync(f, 'x');
    // unknown namespace
    expectErrno(() => setXattr(f, 'bogus.name', Buffer.from('v')), 'ENOTSUP');
    expectErrno(() => getXattr(f, ''), 'EINVAL');
    const err = (() => {
      try {
        getXattr(missing, 'user.a');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof LibcError);
    assert.match(err.message, /^lgetxattr .*xattr-missing: No such file or directory/);
  });
});

describe('special files', () => {
  test('mkfifo creates a FIFO', () => {
    const p = join(dir, 'fifo');
    mkfifo(p, 0o644);
    assert.ok(fs.lstatSync(p).isFIFO());
    expectErrno(() => mkfifo(p, 0o644), 'EEXIST');
    expectErrno(() => mkfifo(join(dir, 'no-such-dir', 'fifo'), 0o644), 'ENOENT');
  });

  test('mkfifo with a non-UTF-8 name', () => {
    const p = byteName('-fifo');
    mkfifo(p, 0o600);
    assert.ok(fs.lstatSync(p).isFIFO());
  });

  test('mknod char device, block device, FIFO', (t) => {
    const fifo = join(dir, 'mknod-fifo');
    mknod(fifo, FILE_TYPE_BITS.S_IFIFO | 0o644, 0);
    assert.ok(fs.lstatSync(fifo).isFIFO());
    const chr = join(dir, 'null');
    try {
      mknod(chr, FILE_TYPE_BITS.S_IFCHR | 0o666, makedev(1, 3));
    } catch (e) {
      if (e instanceof LibcError && e.errno === 'EPERM') return t.skip('not permitted to create device nodes');
      throw e;
    }
    const st = fs.lstatSync(chr, { bigint: true });
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, makedev(1, 3));
    assert.equal(major(st.rdev), 1);
    assert.equal(minor(st.rdev), 3);
    assert.equal(st.rdev, fs.statSync('/dev/null', { bigint: true }).rdev);
    const blk = join(dir, 'blk');
    mknod(blk, FILE_TYPE_BITS.S_IFBLK | 0o600, makedev(259, 70000));
    const bst = fs.lstatSync(blk);
    assert.ok(bst.isBlockDevice());
    assert.equal(major(bst.rdev), 259);
    assert.equal(minor(bst.rdev), 70000);
    expectErrno(() => mknod(chr, FILE_TYPE_BITS.S_IFCHR | 0o666, makedev(1, 3)), 'EEXIST');
    expectErrno(() => mknod(join(dir, 'nope', 'x'), FILE_TYPE_BITS.S_IFIFO | 0o666, 0), 'ENOENT');
  });

  test('makedev/major/minor (glibc encoding)', () => {
    assert.equal(makedev(1, 3), 0x103n);
    assert.equal(makedev(8, 1), 0x801n);
    assert.equal(makedev(259, 0), 0x10300n);
    assert.equal(makedev(0x12345, 0x6789a), 0x1200_0678_3459an); // python3 os.makedev
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 3],
      [8, 17],
      [259, 70000],
      [4095, 255],
      [4096, 256],
      [0xffffffff, 0xffffffff],
      [0x12345678, 0x9abcdef0],
    ];
    for (const [ma, mi] of cases) {
      const d = makedev(ma, mi);
      assert.equal(major(d), ma);
      assert.equal(minor(d), mi);
      if (d <= BigInt(Number.MAX_SAFE_INTEGER)) {
        assert.equal(major(Number(d)), ma);
        assert.equal(minor(Number(d)), mi);
      }
    }
    assert.equal(makedev(0xffffffff, 0xffffffff), 0xffff_ffff_ffff_ffffn);
    assert.throws(() => makedev(-1, 0), PyBackupError);
    assert.throws(() => makedev(0, 2 ** 32), PyBackupError);
  });
});

describe('fallbacks without node:ffi', () => {
  test('child process with --no-experimental-ffi', () => {
    const libcUrl = new URL('./libc.ts', import.meta.url).href;
    const sub = join(dir, 'fallback');
    fs.mkdirSync(sub);
    const script = `
      import * as fs from 'node:fs';
      const m = await import(${JSON.stringify(libcUrl)});
      const dir = ${JSON.stringify(sub)};
      const out = {};
      out.available = m.ffiAvailable();
      const f = dir + '/file';
      fs.writeFileSync(f, 'x');
      m.setTimesNs(f, 1600000000000000000n, 1700000000123456789n, false);
      const st = fs.lstatSync(f, { bigint: true });
      out.mtimeErr = Number(st.mtimeNs - 1700000000123456789n);
      out.atime = String(st.atimeNs);
      m.setTimesNs(f, undefined, 1700000001000000000n, true);
      out.atimeKept = String(fs.lstatSync(f, { bigint: true }).atimeNs);
      out.mtime2 = String(fs.lstatSync(f, { bigint: true }).mtimeNs);
      out.list = m.listXattrNames(f).length;
      out.read = m.readXattrs(f).length;
      try { m.setXattr(f, 'user.a', Buffer.from('v')); out.setXattr = 'no error'; } catch (e) { out.setXattr = e.code + ' ' + e.errno; }
      try { m.setTimesNs(dir + '/missing', undefined, 0n, false); } catch (e) { out.missing = e.code + ' ' + e.errno; }
      m.mkfifo(dir + '/fifo', 0o640);
      out.fifo = fs.lstatSync(dir + '/fifo').isFIFO();
      try { m.mkfifo(dir + '/fifo', 0o640); } catch (e) { out.fifoAgain = e.errno; }
      const bytePath = Buffer.concat([Buffer.from(dir + '/b'), Buffer.from([0xff]), Buffer.from('-fifo')]);
      m.mkfifo(bytePath, 0o600);
      out.byteFifo = fs.lstatSync(bytePath).isFIFO();
      out.leftovers = fs.readdirSync(dir).filter((n) => n.startsWith('.pybackup')).length;
      m.mknod(dir + '/null', 0o020666, m.makedev(1, 3));
      const ns = fs.lstatSync(dir + '/null');
      out.chr = ns.isCharacterDevice() && m.major(ns.rdev) === 1 && m.minor(ns.rdev) === 3;
      m.mknod(dir + '/p', 0o010644, 0);
      out.pipe = fs.lstatSync(dir + '/p').isFIFO();
      try { m.mknod(dir + '/p', 0o010644, 0); } catch (e) { out.mknodAgain = e.errno; }
      process.stdout.write(JSON.stringify(out));
    `;
    const res = spawnSync(process.execPath, ['--no-experimental-ffi', '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(out['available'], false);
    assert.ok(Math.abs(out['mtimeErr'] as number) < 1000, `fallback mtime error ${String(out['mtimeErr'])} ns`);
    assert.equal(out['atimeKept'], out['atime']);
    assert.ok(Math.abs(Number(BigInt(out['atimeKept'] as string) - 1600000000000000000n)) < 1000);
    assert.equal(out['list'], 0);
    assert.equal(out['read'], 0);
    assert.equal(out['setXattr'], 'IO ENOTSUP');
    assert.equal(out['missing'], 'IO ENOENT');
    assert.equal(out['fifo'], true);
    assert.equal(out['fifoAgain'], 'EEXIST');
    assert.equal(out['byteFifo'], true);
    assert.equal(out['leftovers'], 0);
    if (process.getuid?.() === 0) assert.equal(out['chr'], true);
    assert.equal(out['pipe'], true);
    assert.equal(out['mknodAgain'], 'EEXIST');
  });
});
