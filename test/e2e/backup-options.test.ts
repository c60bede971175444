/**
 * 11. Backup options: exclusion flags, --files-from, --stdin, --git-ignore — judged by what a restore gives back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { Sandbox, allPaths, assertExit, assertNoStackTrace, describe } from './helpers.ts';

const CACHE_TAG = 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag.\n';

/** Creates files (content = their name unless given) below `root`. */
function files(root: string, spec: Record<string, string | number>): void {
  for (const [p, c] of Object.entries(spec)) {
    const abs = join(root, p);
    if (p.endsWith('/')) {
      mkdirSync(abs, { recursive: true });
      continue;
    }
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, typeof c === 'number' ? Buffer.alloc(c, 0x61) : c);
  }
}

let n = 0;
/** Backs up with `args`, restores the snapshot, returns the restored paths relative to `base` (default: src). */
async function backedUp(sb: Sandbox, args: readonly string[], o: { base?: string; expect?: number } = {}): Promise<string[]> {
  const s = await sb.backup(args, o.expect === undefined ? {} : { expect: o.expect });
  const target = sb.path(`restore-${++n}`);
  assertExit(await sb.cli(['restore', s.snapshot_id ?? 'latest', '--target', target]), 0, 'restore');
  const base = join(target, o.base ?? sb.src);
  return allPaths(base).map((p) => relative(base, p));
}

test('--exclude, --iexclude, --exclude-file', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { 'keep.txt': '', 'drop.log': '', 'sub/deeper/x.log': '', 'sub/keep.md': '', 'skipdir/a': '', 'other/skipdir/b': '', 'UPPER.TMP': '', 'lower.tmp': '', 'Mixed.Tmp': '', 'notes.bak': '', 'sub/old.bak': '', '#hash': '' });
  const got = await backedUp(sb, [sb.src, '--exclude', '*.log', '--exclude', `${sb.src}/skipdir`, '--iexclude', '*.tmp']);
  assert.deepEqual(got, ['#hash', 'keep.txt', 'notes.bak', 'other', 'other/skipdir', 'other/skipdir/b', 'sub', 'sub/keep.md', 'sub/old.bak', 'sub/deeper'].sort());

  const list = sb.path('excludes.txt');
  writeFileSync(list, `# a comment\n\n*.bak\n  sub/deeper  \n${sb.src}/other\n`);
  const got2 = await backedUp(sb, [sb.src, '--exclude-file', list]);
  assert.deepEqual(got2, ['#hash', 'Mixed.Tmp', 'UPPER.TMP', 'drop.log', 'keep.txt', 'lower.tmp', 'skipdir', 'skipdir/a', 'sub', 'sub/keep.md'].sort());
  // exclude patterns are recorded in the snapshot
  const cat = await sb.cli(['cat', 'snapshot', 'latest']);
  assertExit(cat, 0);
});

test('--exclude-caches and --exclude-if-present', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, {
    'cache/CACHEDIR.TAG': CACHE_TAG,
    'cache/blob1': '',
    'cache/deep/blob2': '',
    'fake-cache/CACHEDIR.TAG': 'Signature: not the right one\n',
    'fake-cache/kept': '',
    'project/.nobackup': '',
    'project/secret': '',
    'project/sub/more': '',
    'normal/file': '',
  });
  const got = await backedUp(sb, [sb.src, '--exclude-caches']);
  assert.ok(!got.some((p) => p.startsWith('cache/blob') || p.startsWith('cache/deep')), `cache contents excluded: ${got.join(', ')}`);
  assert.ok(got.includes('cache'), 'the cache directory itself is kept');
  assert.ok(got.includes('fake-cache/kept'), 'an invalid CACHEDIR.TAG does not exclude');
  assert.ok(got.includes('project/secret'));

  const got2 = await backedUp(sb, [sb.src, '--exclude-if-present', '.nobackup']);
  assert.ok(!got2.some((p) => p === 'project/secret' || p.startsWith('project/sub')), `tagged dir contents excluded: ${got2.join(', ')}`);
  assert.ok(got2.includes('cache/blob1'), 'CACHEDIR.TAG means nothing without --exclude-caches');
  assert.ok(got2.includes('normal/file'));

  // with a header: only tag files whose content starts with it count
  writeFileSync(join(sb.src, 'project', '.nobackup'), 'NOBACKUP v1');
  const got3 = await backedUp(sb, [sb.src, '--exclude-if-present', '.nobackup:WRONG']);
  assert.ok(got3.includes('project/secret'), 'header mismatch: not a tag');
  const got4 = await backedUp(sb, [sb.src, '--exclude-if-present', '.nobackup:NOBACKUP']);
  assert.ok(!got4.includes('project/secret'), 'header match: excluded');
});

test('--exclude-larger-than', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { 'small': 500, 'exact': 1024, 'bigger': 1025, 'dir/huge': 100_000, 'dir/tiny': 1 });
  const got = await backedUp(sb, [sb.src, '--exclude-larger-than', '1K']);
  assert.deepEqual(got, ['dir', 'dir/tiny', 'exact', 'small']);
  const got2 = await backedUp(sb, [sb.src, '--exclude-larger-than', '1.5KiB']);
  assert.deepEqual(got2, ['bigger', 'dir', 'dir/tiny', 'exact', 'small']);
});

test('--files-from', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { 'one/a': '', 'one/b': '', 'two/c': '', 'three/d.txt': '', 'three/e.txt': '', 'three/f.dat': '', 'ignored/g': '' });
  const list = sb.path('list.txt');
  writeFileSync(list, `# paths to back up\n${sb.src}/one\n\n  ${sb.src}/two/c  \n${sb.src}/three/*.txt\n${sb.src}/no-such-thing\n`);
  const s = await sb.cli(['--json', 'backup', '--files-from', list]);
  assertExit(s, 0, 'backup --files-from');
  assert.match(s.stderr, /no-such-thing/, 'a line matching nothing is reported');
  const snap = JSON.parse((await sb.cli(['cat', 'snapshot', 'latest'])).stdout) as { paths: string[] };
  assert.deepEqual(snap.paths, [`${sb.src}/one`, `${sb.src}/three/d.txt`, `${sb.src}/three/e.txt`, `${sb.src}/two/c`]);
  const target = sb.path('t');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0);
  const got = allPaths(join(target, sb.src)).map((p) => relative(join(target, sb.src), p));
  assert.deepEqual(got, ['one', 'one/a', 'one/b', 'three', 'three/d.txt', 'three/e.txt', 'two', 'two/c']);
  // --files-from-raw (NUL-separated) combined with a path argument
  const raw = sb.path('list.raw');
  writeFileSync(raw, `${sb.src}/ignored/g\0`);
  const got2 = await backedUp(sb, [`${sb.src}/two`, '--files-from-raw', raw]);
  assert.deepEqual(got2, ['ignored', 'ignored/g', 'two', 'two/c']);
});

test('--stdin --stdin-filename gives the bytes back', async (t) => {
  const sb = await Sandbox.create(t);
  const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(1 << 20, 7), randomBytes(12345)]);
  const r = await sb.cli(['--json', 'backup', '--stdin', '--stdin-filename', 'dump.sql', '--tag', 'db'], { input: data });
  assertExit(r, 0, 'backup --stdin');
  const snap = JSON.parse((await sb.cli(['cat', 'snapshot', 'latest'])).stdout) as { paths: string[]; tags: string[] };
  assert.deepEqual(snap.paths, ['/dump.sql']);
  const target = sb.path('t');
  assertExit(await sb.cli(['restore', 'latest', '--target', target, '--verify']), 0);
  assert.ok(readFileSync(join(target, 'dump.sql')).equals(data), 'restored bytes equal the input');
  // the same input again adds no data; empty input is a valid empty file
  const again = await sb.cli(['--json', 'backup', '--stdin', '--stdin-filename', 'dump.sql'], { input: data });
  assertExit(again, 0);
  assert.match(again.stdout, /"data_blobs":0/);
  const empty = await sb.cli(['backup', '--stdin', '--stdin-filename', 'empty'], { input: '' });
  assertExit(empty, 0, describe(empty));
  assertExit(await sb.cli(['restore', 'latest', '--target', sb.path('t2')]), 0);
  assert.equal(readFileSync(join(sb.path('t2'), 'empty')).length, 0);
  // default name
  assertExit(await sb.cli(['backup', '--stdin'], { input: 'hello' }), 0);
  assertExit(await sb.cli(['restore', 'latest', '--target', sb.path('t3')]), 0);
  assert.equal(readFileSync(join(sb.path('t3'), 'stdin'), 'utf8'), 'hello');
});

test('--git-ignore honours .gitignore files', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, {
    '.gitignore': '*.o\nbuild/\n!keep.o\n/rooted.txt\n',
    'main.c': '',
    'main.o': '',
    'keep.o': '',
    'rooted.txt': '',
    'build/out': '',
    'lib/rooted.txt': '',
    'lib/x.o': '',
    'lib/.gitignore': '*.c\n',
    'lib/y.c': '',
    'lib/build/z': '',
  });
  const got = await backedUp(sb, [sb.src, '--git-ignore']);
  assert.deepEqual(got, ['.gitignore', 'keep.o', 'lib', 'lib/.gitignore', 'lib/rooted.txt', 'main.c'].sort());
  const without = await backedUp(sb, [sb.src]);
  assert.ok(without.includes('main.o') && without.includes('build/out'), 'without --git-ignore everything is saved');
});

test('option errors are clean', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { a: '' });
  for (const args of [['--exclude', '[unclosed'], ['--exclude-if-present', ''], ['--exclude-larger-than', 'lots']]) {
    const r = await sb.cli(['backup', sb.src, ...args]);
    assertNoStackTrace(r, args.join(' '));
    assert.equal(r.code, 1, `${args.join(' ')}: ${describe(r)}`);
  }
});

test('a backup source matching an exclude pattern is itself excluded (restic semantics)', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { 'keep/a.txt': 'a', 'cache/b.txt': 'b' });
  const s = await sb.backup([join(sb.src, 'keep'), join(sb.src, 'cache'), '--exclude', 'cache']);
  const target = sb.path('restore-src-excluded');
  assertExit(await sb.cli(['restore', s.snapshot_id ?? 'latest', '--target', target]), 0, 'restore');
  const got = allPaths(join(target, sb.src)).map((p) => relative(join(target, sb.src), p));
  assert.deepEqual(got, ['keep', 'keep/a.txt']);
});

test('--one-file-system keeps a mount point as an empty directory and skips what is mounted there', async (t) => {
  const sb = await Sandbox.create(t);
  files(sb.src, { 'outer.txt': 'outer', 'mnt/': '' });
  const mnt = join(sb.src, 'mnt');
  const m = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
  if (m.status !== 0) {
    t.skip('cannot mount a tmpfs here (needs root in a mount-capable sandbox)');
    return;
  }
  try {
    writeFileSync(join(mnt, 'inner.txt'), 'inner');
    assert.deepEqual(await backedUp(sb, [sb.src, '--one-file-system']), ['mnt', 'outer.txt']);
    assert.deepEqual(await backedUp(sb, [sb.src]), ['mnt', 'mnt/inner.txt', 'outer.txt']);
  } finally {
    spawnSync('umount', [mnt]);
  }
});
