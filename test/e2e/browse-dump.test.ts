/**
 * diff and dump through the real CLI: tree diffs with markers and statistics (text and --json), unified text diffs
 * of two versions of a file, binary and identical files; dump of a file (byte-exact, multi-blob), of a directory as
 * tar (checked with GNU tar) and zip (checked with python3 zipfile), --target, and clear errors on bad input.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, jsonLines, writeRandomFile } from './helpers.ts';

async function ok(sb: Sandbox, args: readonly string[]): Promise<{ stdout: string; buf: Buffer }> {
  const r = await sb.cli(args);
  assertExit(r, 0, args.join(' '));
  assertNoStackTrace(r);
  return { stdout: r.stdout, buf: r.stdoutBuf };
}

test('diff and dump', async (t) => {
  const sb = await Sandbox.create(t);
  const src = sb.src;
  mkdirSync(join(src, 'dir', 'same'), { recursive: true });
  mkdirSync(join(src, 'gone'));
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
  writeFileSync(join(src, 'dir', 'text.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(src, 'dir', 'same', 'keep.txt'), 'unchanged\n');
  writeFileSync(join(src, 'gone', 'x'), 'x');
  writeFileSync(join(src, 'bin.dat'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(Buffer.from(`${src}/n\xe9`, 'latin1'), 'latin1 name\n');
  writeRandomFile(join(src, 'big.bin'), 3 << 20); // several blobs
  symlinkSync('dir/text.txt', join(src, 'ln'));
  await sb.backup([src]);
  lines[4] = 'line 5 changed';
  lines.push('line 41');
  writeFileSync(join(src, 'dir', 'text.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(src, 'bin.dat'), Buffer.from([0, 9, 9, 9, 9]));
  rmSync(join(src, 'gone'), { recursive: true });
  writeFileSync(join(src, 'new.txt'), 'new\n');
  await sb.backup([src]);
  const snaps = JSON.parse((await ok(sb, ['--json', 'snapshots'])).stdout) as { id: string }[];
  const [s1, s2] = snaps.map((s) => s.id.slice(0, 8)) as [string, string];

  await t.test('diff: markers, counts and bytes; --json as restic', async () => {
    const { stdout } = await ok(sb, ['diff', s1, s2]);
    assert.match(stdout, new RegExp(`^comparing snapshot ${s1} to ${s2}:`));
    const changes = stdout.split('\n').filter((l) => /^[-+MUT] {4}/.test(l)).map((l) => l.replace(src, 'SRC'));
    assert.deepEqual(changes.filter((l) => !l.startsWith('U')), ['M    SRC/bin.dat', 'M    SRC/dir/text.txt', '-    SRC/gone/', '-    SRC/gone/x', '+    SRC/new.txt']);
    assert.match(stdout, /Files: +1 new, +1 removed, +2 changed/);
    assert.match(stdout, /Dirs: +0 new, +1 removed/);
    assert.match(stdout, /Added: +[\d.]+ (B|KiB)/);
    const j = jsonLines((await ok(sb, ['--json', 'diff', s1, s2, `${src}/dir`])).stdout);
    assert.deepEqual(j.filter((x) => x.message_type === 'change').map((x) => [x.modifier, x.path]), [['M', `${src}/dir/text.txt`]]);
    const st = j.find((x) => x.message_type === 'statistics') as { changed_files: number; added: { data_blobs: number } };
    assert.equal(st.changed_files, 1);
    assert.equal(st.added.data_blobs, 1);
    assert.equal((await ok(sb, ['diff', s2, s2])).stdout.split('\n').filter((l) => /^[-+MUT] {4}/.test(l)).length, 0);
  });

  await t.test('diff SNAP1:FILE SNAP2:FILE: unified text diff, binary note, identical files', async () => {
    const { stdout } = await ok(sb, ['diff', `${s1}:${src}/dir/text.txt`, `latest:${src}/dir/text.txt`]);
    const body = stdout.split('\n');
    assert.match(body[0] ?? '', new RegExp(`^--- ${s1}:${src}/dir/text\\.txt\\t`));
    assert.match(body[1] ?? '', new RegExp(`^\\+\\+\\+ ${s2}:${src}/dir/text\\.txt\\t`));
    assert.deepEqual(body.slice(2, 11), ['@@ -2,7 +2,7 @@', ' line 2', ' line 3', ' line 4', '-line 5', '+line 5 changed', ' line 6', ' line 7', ' line 8']);
    assert.deepEqual(body.slice(11, 16), ['@@ -38,3 +38,4 @@', ' line 38', ' line 39', ' line 40', '+line 41']);
    // the shown diff applies with patch(1)
    const old = (await ok(sb, ['dump', `${s1}:${src}/dir/text.txt`])).buf;
    writeFileSync(sb.path('old.txt'), old);
    writeFileSync(sb.path('p.diff'), stdout);
    if (spawnSync('patch', ['--version']).status === 0) {
      execFileSync('patch', ['-s', sb.path('old.txt'), sb.path('p.diff')]);
      assert.equal(readFileSync(sb.path('old.txt'), 'utf8'), readFileSync(join(src, 'dir', 'text.txt'), 'utf8'));
    }
    assert.match((await ok(sb, ['diff', `${s1}:${src}/bin.dat`, `${s2}:${src}/bin.dat`])).stdout, /^Binary files .* differ \(4 B -> 5 B\)/);
    assert.match((await ok(sb, ['diff', s1, s2, `${src}/dir/same/keep.txt`])).stdout, /are identical/);
    const j = jsonLines((await ok(sb, ['--json', 'diff', '-U', '0', `${s1}:${src}/dir/text.txt`, `${s2}:${src}/dir/text.txt`])).stdout)[0];
    assert.equal(j?.result, 'text');
    assert.deepEqual(j?.hunks, [
      { old_start: 5, old_lines: 1, new_start: 5, new_lines: 1, lines: ['-line 5\n', '+line 5 changed\n'] },
      { old_start: 40, old_lines: 0, new_start: 41, new_lines: 1, lines: ['+line 41\n'] },
    ]);
  });

  await t.test('dump: a file byte-exact to stdout, directories as tar and zip', async () => {
    const big = (await ok(sb, ['dump', `latest:${src}/big.bin`])).buf;
    assert.ok(big.equals(readFileSync(join(src, 'big.bin'))));
    const tar = (await ok(sb, ['dump', `latest:${src}`])).buf;
    writeFileSync(sb.path('s.tar'), tar);
    const out = sb.path('untar');
    mkdirSync(out);
    execFileSync('tar', ['-xf', sb.path('s.tar'), '-C', out]);
    assertSameTree(src, join(out, 'src'), { skipRootTimes: true });
    await ok(sb, ['dump', '--archive', 'zip', '--target', sb.path('s.zip'), 'latest', `${src}/dir`]);
    const names = execFileSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(sorted(z.namelist())))', sb.path('s.zip')], { encoding: 'utf8' });
    assert.deepEqual(names.trim().split('\n'), ['dir/', 'dir/same/', 'dir/same/keep.txt', 'dir/text.txt']);
    const whole = (await ok(sb, ['--json', 'dump', '--target', sb.path('all.tar'), `latest:/`])).stdout;
    const sum = jsonLines(whole).at(-1);
    assert.equal(sum?.message_type, 'summary');
    assert.equal(sum?.files, 6);
    assert.match(execFileSync('tar', ['-tf', sb.path('all.tar')], { encoding: 'utf8' }), new RegExp(`^${src.slice(1)}/big\\.bin$`, 'm'));
  });

  await t.test('dump/diff garbage input: clear errors, no partial target file', async () => {
    const bad: [string[], RegExp][] = [
      [['dump', `latest:${src}/missing`], /not found in snapshot/],
      [['dump', `latest:${src}/ln`], /is a symlink to dir\/text\.txt; only files and directories can be dumped/],
      [['dump', '--archive', 'rar', `latest:${src}`], /unknown archive format "rar"/],
      [['dump', `latest:${src}`, `${src}/dir`], /either as/],
      [['dump', '--target', sb.path('no/such/dir/x.tar'), `latest:${src}`], /cannot create/],
      [['diff', s1], /missing required argument/],
      [['diff', 'latest', 'nothex'], /invalid ID "nothex"/],
      [['diff', s1, s2, '/nope'], /not found in snapshot .* nor/],
      [['diff', s1, s1, '/nope'], /not found in snapshot [0-9a-f]{8}$/m],
      [['diff', `${s1}:/a`, s2, '/b'], /either in SNAPSHOT:PATH or as the third argument/],
      [['diff', '-U', 'x', s1, s2], /--context needs a whole number/],
    ];
    for (const [args, re] of bad) {
      const r = await sb.cli(args);
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail: ${describe(r)}`);
      assertNoStackTrace(r, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.equal(existsSync(sb.path('no')), false);
  });
});
