/**
 * 1. An edge-case tree survives backup + restore byte-identical, with its metadata: modes (incl. setuid/setgid/sticky),
 * owners, nanosecond mtimes (files, dirs, symlinks), symlinks (never followed), hardlinks, xattrs, FIFOs, a device
 * node, odd names (non-UTF-8, newline, 255 bytes, quotes), a sparse file restored with holes.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, ftruncateSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listXattrNames, makedev, mkfifo, mknod, setTimesNs, setXattr } from '../../src/platform/libc.ts';
import { IS_ROOT, Sandbox, assertExit, assertSameTree, restoredPath, writeRandomFile } from './helpers.ts';

const T0 = 1_700_000_000_123_456_789n;
const B = (s: string | number[]): Buffer => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [B('/'), p])));

/** Builds the tree under `root`; returns the sparse file's path. */
function buildTree(root: string): { sparse: string } {
  const r = B(root);
  mkdirSync(root);
  // regular files
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'small.txt'), 'hello, world\n');
  writeRandomFile(join(root, 'random-3M'), 3 << 20);
  // nested empty dirs and deep nesting
  mkdirSync(join(root, 'empty-dirs', 'a', 'b', 'c'), { recursive: true });
  let deep = join(root, 'deep');
  for (let i = 0; i < 60; i++) deep = join(deep, `d${i}`);
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'bottom.txt'), 'at the bottom');
  // odd names
  writeFileSync(cat(r, B([0x6e, 0x6f, 0x6e, 0x75, 0x74, 0x66, 0x38, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e])), 'latin1 name');
  mkdirSync(cat(r, B([0xc3, 0x28, 0x64, 0x69, 0x72])));
  writeFileSync(cat(r, B([0xc3, 0x28, 0x64, 0x69, 0x72]), B([0x80])), 'inside a non-UTF-8 dir');
  writeFileSync(join(root, 'new\nline'), 'newline in name');
  writeFileSync(join(root, 'n'.repeat(255)), '255-byte name');
  writeFileSync(join(root, `it's a "quoted" name with spaces `), 'quotes');
  writeFileSync(join(root, 'ünïcödé – 日本語'), 'utf-8 name');
  // permissions and owners
  writeFileSync(join(root, 'setuid'), '#!/bin/sh\n');
  chownSync(join(root, 'setuid'), 1234, 5678);
  chmodSync(join(root, 'setuid'), 0o4755);
  writeFileSync(join(root, 'setgid'), 'x');
  chmodSync(join(root, 'setgid'), 0o2711);
  writeFileSync(join(root, 'mode000'), 'nobody may read');
  chmodSync(join(root, 'mode000'), 0o000);
  writeFileSync(join(root, 'owned'), 'owned by 1234:5678');
  chownSync(join(root, 'owned'), 1234, 5678);
  mkdirSync(join(root, 'sticky'));
  writeFileSync(join(root, 'sticky', 'f'), 'f');
  chmodSync(join(root, 'sticky'), 0o1777);
  mkdirSync(join(root, 'sgid-dir'));
  chownSync(join(root, 'sgid-dir'), 1234, 5678);
  chmodSync(join(root, 'sgid-dir'), 0o2750);
  mkdirSync(join(root, 'private'));
  chmodSync(join(root, 'private'), 0o700);
  // symlinks: relative, absolute, dangling, to a dir, owned
  symlinkSync('small.txt', join(root, 'link-rel'));
  symlinkSync('/etc/passwd', join(root, 'link-abs'));
  symlinkSync('does/not/exist', join(root, 'link-dangling'));
  symlinkSync('empty-dirs', join(root, 'link-dir'));
  symlinkSync(B([0x74, 0x61, 0x72, 0xff]), join(root, 'link-nonutf8'));
  lchownSync(join(root, 'link-rel'), 1234, 5678);
  // hardlinks (a group of three across directories) and a separate pair
  writeFileSync(join(root, 'hl-a'), 'hardlinked content');
  linkSync(join(root, 'hl-a'), join(root, 'empty-dirs', 'hl-b'));
  linkSync(join(root, 'hl-a'), join(root, 'hl-c'));
  writeFileSync(join(root, 'pair-1'), 'pair');
  linkSync(join(root, 'pair-1'), join(root, 'pair-2'));
  // a file whose other link lies outside the backed-up tree: restored as a plain file
  writeFileSync(join(root, 'linked-from-outside'), 'one link inside');
  linkSync(join(root, 'linked-from-outside'), `${root}.outside-link`);
  // directories the owner cannot enter or write
  mkdirSync(join(root, 'locked-dir'));
  writeFileSync(join(root, 'locked-dir', 'inside'), 'in a mode 000 dir');
  chmodSync(join(root, 'locked-dir'), 0o000);
  mkdirSync(join(root, 'ro-dir'));
  writeFileSync(join(root, 'ro-dir', 'inside'), 'in a read-only dir');
  chmodSync(join(root, 'ro-dir'), 0o555);
  // xattrs
  writeFileSync(join(root, 'xattrs'), 'with attributes');
  try {
    setXattr(join(root, 'xattrs'), 'user.comment', B('a comment'));
  } catch (e) {
    // a temp filesystem without user xattrs: the rest of the tree is still compared
    if ((e as { errno?: string }).errno !== 'ENOTSUP') throw e;
  }
  if (listXattrNames(join(root, 'xattrs')).length > 0) {
    setXattr(join(root, 'xattrs'), 'user.binary', B([0, 1, 2, 255]));
    setXattr(join(root, 'xattrs'), 'user.empty', B(''));
    setXattr(join(root, 'sticky'), 'user.dir-attr', B('on a directory'));
    setXattr(join(root, 'xattrs'), 'trusted.root-only', B('root namespace'));
    setXattr(join(root, 'xattrs'), B([0x75, 0x73, 0x65, 0x72, 0x2e, 0xff]), B('non-UTF-8 attribute name'));
  }
  // special files
  mkfifo(join(root, 'fifo'), 0o640);
  chmodSync(join(root, 'fifo'), 0o640);
  mknod(join(root, 'null-dev'), 0o020000 | 0o666, makedev(1, 3));
  chmodSync(join(root, 'null-dev'), 0o666);
  // sparse: 64 MiB with three written 4 KiB blocks
  const sparse = join(root, 'sparse.img');
  const fd = openSync(sparse, 'w');
  ftruncateSync(fd, 64 << 20);
  for (const off of [0, 20 << 20, (64 << 20) - 4096]) writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, off);
  closeSync(fd);
  return { sparse };
}

/** Gives every entry a distinct nanosecond mtime, deepest first, so directory times stick. */
function stampTimes(root: string): void {
  let k = 0n;
  const walk = (p: Buffer): void => {
    const st = lstatSync(p);
    if (st.isDirectory()) {
      for (const n of readdirBuffers(p)) walk(Buffer.concat([p, B('/'), n]));
    }
    k++;
    setTimesNs(p, T0 - 5_000_000_000n, T0 + k * 1_000_000_007n, false);
  };
  walk(B(root));
}

function readdirBuffers(p: Buffer): Buffer[] {
  return readdirSync(p, { encoding: 'buffer' }).sort(Buffer.compare);
}

test('edge-case tree is restored byte-identical with all metadata', { skip: !IS_ROOT && 'needs root (chown, mknod)' }, async (t) => {
  const sb = await Sandbox.create(t);
  const { sparse } = buildTree(sb.src);
  stampTimes(sb.src);
  // times before the epoch and far in the future
  setTimesNs(join(sb.src, 'small.txt'), undefined, -86_400_250_000_000n, false);
  setTimesNs(join(sb.src, 'empty'), undefined, 9_000_000_000_999_999_999n, false);
  setTimesNs(join(sb.src, 'link-rel'), undefined, -1n, false);
  const before = lstatSync(sparse);
  assert.ok(before.blocks * 512 < 1 << 20, 'the source sparse file has holes');

  const s = await sb.backup([sb.src]);
  assert.equal(s.error_count, 0);
  const target = sb.path('target');
  const r = await sb.cli(['restore', 'latest', '--target', target, '--sparse']);
  assertExit(r, 0, 'restore');

  const out = restoredPath(target, sb.src);
  assertSameTree(sb.src, out);

  const st = lstatSync(join(out, 'sparse.img'));
  assert.equal(st.size, 64 << 20);
  assert.ok(st.blocks * 512 <= 1 << 20, `sparse file keeps its holes (allocated ${st.blocks * 512} bytes of ${st.size})`);
  // hardlinks are links in the target, not copies
  assert.equal(lstatSync(join(out, 'hl-a')).ino, lstatSync(join(out, 'empty-dirs', 'hl-b')).ino);
  assert.equal(lstatSync(join(out, 'hl-a')).nlink, 3);
  assert.equal(lstatSync(join(out, 'linked-from-outside')).nlink, 1);
});

test('restore without --sparse writes the same content (holes filled)', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  const fd = openSync(join(sb.src, 'sparse'), 'w');
  ftruncateSync(fd, 8 << 20);
  writeSync(fd, Buffer.alloc(100, 1), 0, 100, 5 << 20);
  closeSync(fd);
  writeFileSync(join(sb.src, 'plain'), 'plain');
  stampTimes(sb.src);
  await sb.backup([sb.src]);
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(sb.src, restoredPath(target, sb.src));
});

test('files and symlinks given as backup paths are saved as they are (links not followed)', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'real'), { recursive: true });
  writeFileSync(join(sb.src, 'real', 'data.txt'), 'real data');
  writeFileSync(join(sb.src, 'single.txt'), 'a single file');
  symlinkSync(join(sb.src, 'real'), join(sb.src, 'dir-link'));
  symlinkSync('real/data.txt', join(sb.src, 'file-link'));
  const s = await sb.backup([join(sb.src, 'single.txt'), join(sb.src, 'dir-link'), join(sb.src, 'file-link')]);
  assert.equal(s.error_count, 0);
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  const out = restoredPath(target, sb.src);
  assert.deepEqual(readdirSync(out).sort(), ['dir-link', 'file-link', 'single.txt']);
  assert.ok(lstatSync(join(out, 'dir-link')).isSymbolicLink());
  assert.ok(lstatSync(join(out, 'file-link')).isSymbolicLink());
  assert.equal(readFileSync(join(out, 'single.txt'), 'utf8'), 'a single file');
  // the intermediate directories carry the metadata of the source's parents
  assert.equal(lstatSync(out).mode & 0o7777, lstatSync(sb.src).mode & 0o7777);
  assert.equal(lstatSync(out).mtimeMs, lstatSync(sb.src).mtimeMs);
});
