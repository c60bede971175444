/**
 * 12. Restore options: SNAPSHOT:SUBPATH, --include/--exclude, --overwrite modes, --delete, --verify, --dry-run.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { Sandbox, allPaths, assertExit, assertNoStackTrace, assertSameTree, describe, jsonLines, writeRandomFile } from './helpers.ts';

interface RestoreSummary {
  files_restored: number;
  files_skipped: number;
  files_deleted: number;
  error_count: number;
  dry_run: boolean;
  files_verified?: number;
  verify_failures?: number;
}

async function restore(sb: Sandbox, args: readonly string[], expect = 0): Promise<RestoreSummary> {
  const r = await sb.cli(['--json', 'restore', ...args]);
  assertExit(r, expect, `restore ${args.join(' ')}`);
  assertNoStackTrace(r);
  const s = jsonLines(r.stdout).filter((l) => l.message_type === 'summary');
  assert.equal(s.length, 1, describe(r));
  return s[0] as unknown as RestoreSummary;
}

function paths(dir: string): string[] {
  return allPaths(dir).map((p) => relative(dir, p));
}

async function fixture(t: Parameters<typeof Sandbox.create>[0]): Promise<Sandbox> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'dir', 'sub'), { recursive: true });
  mkdirSync(join(sb.src, 'other'));
  writeFileSync(join(sb.src, 'top.txt'), 'top');
  writeFileSync(join(sb.src, 'dir', 'a.txt'), 'a');
  writeFileSync(join(sb.src, 'dir', 'b.log'), 'b');
  writeFileSync(join(sb.src, 'dir', 'sub', 'c.txt'), 'c');
  writeRandomFile(join(sb.src, 'other', 'd.bin'), 200_000);
  await sb.backup([sb.src]);
  return sb;
}

test('SNAPSHOT:SUBPATH restores only that subtree, into the target itself', async (t) => {
  const sb = await fixture(t);
  const target = sb.path('t1');
  await restore(sb, [`latest:${sb.src}/dir`, '--target', target]);
  assert.deepEqual(paths(target), ['a.txt', 'b.log', 'sub', 'sub/c.txt']);
  assertSameTree(join(sb.src, 'dir'), target, { skipRootTimes: true });
  // a single file
  const t2 = sb.path('t2');
  await restore(sb, [`latest:${sb.src}/dir/sub/c.txt`, '--target', t2]);
  assert.deepEqual(paths(t2), ['c.txt']);
  assert.equal(readFileSync(join(t2, 'c.txt'), 'utf8'), 'c');
  // trailing slash and an intermediate directory
  const t3 = sb.path('t3');
  await restore(sb, [`latest:${sb.src}/`, '--target', t3]);
  assert.deepEqual(paths(t3), ['dir', 'dir/a.txt', 'dir/b.log', 'dir/sub', 'dir/sub/c.txt', 'other', 'other/d.bin', 'top.txt']);
  const missing = await sb.cli(['restore', `latest:${sb.src}/nope`, '--target', sb.path('t4')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
  assertNoStackTrace(missing);
});

test('--include and --exclude', async (t) => {
  const sb = await fixture(t);
  const base = (d: string): string => join(d, sb.src);
  const t1 = sb.path('inc');
  await restore(sb, ['latest', '--target', t1, '--include', '*.txt']);
  assert.deepEqual(paths(base(t1)), ['dir', 'dir/a.txt', 'dir/sub', 'dir/sub/c.txt', 'top.txt']);
  const t2 = sb.path('exc');
  await restore(sb, ['latest', '--target', t2, '--exclude', 'sub', '--exclude', '*.bin']);
  assert.deepEqual(paths(base(t2)), ['dir', 'dir/a.txt', 'dir/b.log', 'other', 'top.txt']);
  const t3 = sb.path('inc-dir');
  await restore(sb, ['latest', '--target', t3, '--include', `${sb.src}/dir`, '--exclude', '*.log']);
  assert.deepEqual(paths(base(t3)), ['dir', 'dir/a.txt', 'dir/sub', 'dir/sub/c.txt']);
  const t4 = sb.path('iinc');
  await restore(sb, ['latest', '--target', t4, '--iinclude', 'TOP.TXT']);
  assert.deepEqual(paths(base(t4)), ['top.txt']);
});

test('--overwrite never / if-newer / if-changed / always', async (t) => {
  const sb = await fixture(t);
  const setup = async (name: string): Promise<string> => {
    const target = sb.path(name);
    await restore(sb, ['latest', '--target', target]);
    const d = join(target, sb.src, 'dir');
    // a.txt: changed, older than the snapshot; b.log: changed, newer; sub/c.txt: deleted; top.txt untouched
    writeFileSync(join(d, 'a.txt'), 'A (local, old)');
    utimesSync(join(d, 'a.txt'), new Date('2000-01-01'), new Date('2000-01-01'));
    writeFileSync(join(d, 'b.log'), 'B (local, new)');
    utimesSync(join(d, 'b.log'), new Date('2099-01-01'), new Date('2099-01-01'));
    rmSync(join(d, 'sub', 'c.txt'));
    return target;
  };
  const read = (target: string, p: string): string => readFileSync(join(target, sb.src, p), 'utf8');

  const never = await setup('never');
  const s1 = await restore(sb, ['latest', '--target', never, '--overwrite', 'never']);
  assert.equal(read(never, 'dir/a.txt'), 'A (local, old)');
  assert.equal(read(never, 'dir/b.log'), 'B (local, new)');
  assert.equal(read(never, 'dir/sub/c.txt'), 'c', 'missing files are restored');
  assert.equal(s1.files_skipped, 4);

  const newer = await setup('if-newer');
  const s2 = await restore(sb, ['latest', '--target', newer, '--overwrite', 'if-newer']);
  assert.equal(read(newer, 'dir/a.txt'), 'a', 'older local file is overwritten');
  assert.equal(read(newer, 'dir/b.log'), 'B (local, new)', 'newer local file is kept');
  assert.equal(read(newer, 'dir/sub/c.txt'), 'c');
  assert.equal(s2.files_skipped, 3, 'b.log, top.txt and d.bin (same mtime) are skipped');

  const changed = await setup('if-changed');
  const s3 = await restore(sb, ['latest', '--target', changed, '--overwrite', 'if-changed']);
  assert.equal(read(changed, 'dir/a.txt'), 'a');
  assert.equal(read(changed, 'dir/b.log'), 'b');
  assert.equal(read(changed, 'dir/sub/c.txt'), 'c');
  assert.equal(s3.files_skipped, 2, 'unchanged top.txt and d.bin are skipped');
  assertSameTree(sb.src, join(changed, sb.src));

  const always = await setup('always');
  const s4 = await restore(sb, ['latest', '--target', always, '--overwrite', 'always']);
  assert.equal(s4.files_skipped, 0);
  assert.equal(s4.files_restored, 5);
  assertSameTree(sb.src, join(always, sb.src));
  // default is always
  const dflt = await setup('default');
  assert.equal((await restore(sb, ['latest', '--target', dflt])).files_skipped, 0);
  assertSameTree(sb.src, join(dflt, sb.src));
});

test('--overwrite never keeps existing entries of every type', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  symlinkSync('somewhere', join(sb.src, 'link'));
  writeFileSync(join(sb.src, 'file'), 'from the snapshot');
  const target = sb.path('t');
  const root = join(target, sb.src);
  await sb.backup([sb.src]);
  // the target holds a directory with data where the snapshot has a symlink, a symlink where it has a file
  mkdirSync(join(root, 'link'), { recursive: true });
  writeFileSync(join(root, 'link', 'precious'), 'precious data');
  symlinkSync('elsewhere', join(root, 'file'));
  const s = await restore(sb, ['latest', '--target', target, '--overwrite', 'never']);
  assert.equal(s.files_skipped, 2);
  assert.equal(readFileSync(join(root, 'link', 'precious'), 'utf8'), 'precious data', 'the directory was not replaced');
  assert.ok(lstatSync(join(root, 'file')).isSymbolicLink());
  // if-changed replaces what differs, and leaves an identical symlink alone
  const c = await restore(sb, ['latest', '--target', target, '--overwrite', 'if-changed']);
  assert.equal(c.files_skipped, 0);
  assert.ok(lstatSync(join(root, 'link')).isSymbolicLink());
  assert.equal(readFileSync(join(root, 'file'), 'utf8'), 'from the snapshot');
  const c2 = await restore(sb, ['latest', '--target', target, '--overwrite', 'if-changed']);
  assert.equal(c2.files_skipped, 2, 'identical file and symlink are skipped');
});

test('--delete removes files that are not in the snapshot', async (t) => {
  const sb = await fixture(t);
  const target = sb.path('t');
  await restore(sb, ['latest', '--target', target]);
  const root = join(target, sb.src);
  writeFileSync(join(root, 'extra.txt'), 'extra');
  mkdirSync(join(root, 'dir', 'extra-dir', 'deep'), { recursive: true });
  writeFileSync(join(root, 'dir', 'extra-dir', 'deep', 'x'), 'x');
  writeFileSync(join(root, 'dir', 'sub', 'extra2'), 'x');
  // an extra symlink to a directory outside: only the link goes
  const outside = sb.path('outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep-me'), 'outside data');
  symlinkSync(outside, join(root, 'dir', 'link-out'));
  // --dry-run --delete deletes nothing
  const dry = await restore(sb, ['latest', '--target', target, '--delete', '--dry-run']);
  assert.equal(dry.dry_run, true);
  assert.ok(existsSync(join(root, 'extra.txt')));
  const s = await restore(sb, ['latest', '--target', target, '--delete']);
  assert.equal(s.files_deleted, 4);
  assert.equal(readFileSync(join(outside, 'keep-me'), 'utf8'), 'outside data', 'a symlink is removed, not followed');
  assert.equal(existsSync(join(root, 'extra.txt')), false);
  assert.equal(existsSync(join(root, 'dir', 'extra-dir')), false);
  assert.equal(existsSync(join(root, 'dir', 'sub', 'extra2')), false);
  assertSameTree(sb.src, root);
  // without --delete extras stay
  writeFileSync(join(root, 'extra.txt'), 'extra');
  await restore(sb, ['latest', '--target', target]);
  assert.ok(existsSync(join(root, 'extra.txt')));
});

test('--verify reports success', async (t) => {
  const sb = await fixture(t);
  const s = await restore(sb, ['latest', '--target', sb.path('t'), '--verify']);
  assert.equal(s.files_verified, 5);
  assert.equal(s.verify_failures, 0);
  const plain = await sb.cli(['restore', 'latest', '--target', sb.path('t2'), '--verify']);
  assertExit(plain, 0);
  assert.match(plain.stdout, /verified 5 files: all match/);
});

test('--dry-run writes nothing', async (t) => {
  const sb = await fixture(t);
  const target = sb.path('t');
  const s = await restore(sb, ['latest', '--target', target, '--dry-run']);
  assert.equal(s.dry_run, true);
  assert.equal(s.files_restored, 5);
  assert.equal(existsSync(target), false, 'the target was not even created');
  const plain = await sb.cli(['restore', 'latest', '--target', target, '-n']);
  assertExit(plain, 0);
  assert.match(plain.stdout, /Would restore 5 files/);
  assert.equal(existsSync(target), false);
  // into an existing target: nothing changes there either
  mkdirSync(target);
  writeFileSync(join(target, 'keep'), 'keep');
  await restore(sb, ['latest', '--target', target, '--dry-run', '--delete']);
  assert.deepEqual(paths(target), ['keep']);
});
