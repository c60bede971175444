/**
 * `pybackup mount DIR` through a real FUSE mount (rclone mount against the built-in WebDAV server): files read back
 * equal the source, `ls -l` shows sizes and times, Ctrl-C unmounts cleanly (exit 0, as restic); clear errors for a
 * bad DIR, a missing rclone, a mount point overlapping the repository, and an rclone that fails at once. Skipped, saying why, where FUSE cannot work (no /dev/fuse, fusermount3 or rclone).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMounted } from '../../src/cli/commands/mount.ts';
import { Sandbox, assertExit, assertNoStackTrace, writeRandomFile } from './helpers.ts';
import { shownTree, started } from './webdav-helpers.ts';

function fuseMissing(): string | undefined {
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is missing or not accessible in this environment';
  }
  if (spawnSync('fusermount3', ['-V']).error) return 'fusermount3 is not installed (Debian package fuse3)';
  if (spawnSync('rclone', ['version']).error) return 'rclone is not installed (Debian package rclone)';
  return undefined;
}

test('mount: clear errors before anything is mounted', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.path('full'));
  writeFileSync(sb.path('full', 'x'), 'x');
  const notEmpty = await sb.cli(['mount', sb.path('full')]);
  assertExit(notEmpty, 1, 'mount over a non-empty dir');
  assert.match(notEmpty.stderr, /is not empty/);
  assertNoStackTrace(notEmpty);
  const missing = await sb.cli(['mount', sb.path('nope')]);
  assertExit(missing, 1, 'mount on a missing dir');
  assert.match(missing.stderr, /does not exist/);
  // a PATH with what bin/pybackup and the checks need, but no rclone
  const bin = sb.path('bin');
  mkdirSync(bin);
  for (const tool of ['dirname', 'readlink', 'fusermount3']) {
    const p = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (p) symlinkSync(p, join(bin, tool));
  }
  mkdirSync(sb.path('empty'));
  const noRclone = await sb.cli(['mount', sb.path('empty')], { env: { PATH: bin } });
  assertExit(noRclone, 1, 'mount without rclone');
  assert.match(noRclone.stderr, /rclone not found: install the Debian\/Ubuntu package rclone|fusermount3 not found|\/dev\/fuse/);
  assertNoStackTrace(noRclone);
  mkdirSync(join(sb.repo, 'inside'));
  const overlap = await sb.cli(['mount', join(sb.repo, 'inside')]);
  assertExit(overlap, 1, 'mount inside the repository');
  assert.match(overlap.stderr, /overlap; mounting there would deadlock/);
});

test('mount: rclone failing at once is reported with its message', async (t) => {
  const why = fuseMissing();
  if (why) {
    t.skip(`FUSE cannot work here: ${why}`);
    return;
  }
  const sb = await Sandbox.create(t);
  const bin = sb.path('bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'rclone'), '#!/bin/sh\necho "2026/01/01 00:00:00 CRITICAL: Fatal error: fake rclone refuses" >&2\nexit 1\n', { mode: 0o755 });
  mkdirSync(sb.path('mnt'));
  const r = await sb.cli(['mount', sb.path('mnt')], { env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
  assertExit(r, 1, 'mount with a failing rclone');
  assert.match(r.stderr, /rclone mount failed \(exit 1\): CRITICAL: Fatal error: fake rclone refuses/);
  assertNoStackTrace(r);
  assert.deepEqual(readdirSync(join(sb.repo, 'locks')), []);
});

test('mount: a real FUSE mount of every snapshot', async (t) => {
  const why = fuseMissing();
  if (why) {
    t.skip(`FUSE cannot work here: ${why}`);
    return;
  }
  const sb = await Sandbox.create(t);
  const src = sb.src;
  mkdirSync(join(src, 'dir', 'deep'), { recursive: true });
  writeFileSync(join(src, 'dir', 'hello.txt'), 'hello fuse\n');
  writeFileSync(join(src, 'dir', 'deep', 'empty'), '');
  writeFileSync(Buffer.from(`${src}/n\xe9`, 'latin1'), 'latin1 name\n');
  writeRandomFile(join(src, 'big.bin'), 5 << 20);
  await sb.backup([src]);
  const mnt = sb.path('mnt');
  mkdirSync(mnt);
  const m = await started(sb.spawn(['--json', 'mount', mnt]), 'mounted');
  t.after(() => {
    if (isMounted(mnt)) spawnSync('fusermount3', ['-u', '-z', mnt]);
    m.child.kill('SIGKILL');
  });
  assert.ok(isMounted(mnt), 'listed in /proc/self/mountinfo');
  assert.deepEqual(readdirSync(mnt), ['hosts', 'latest', 'snapshots', 'tags']);
  const inMount = join(mnt, 'latest', src);
  assert.deepEqual(shownTree(inMount), shownTree(src), 'same files, sizes, contents and mtimes (to the second)');
  assert.ok(readFileSync(join(inMount, 'big.bin')).equals(readFileSync(join(src, 'big.bin'))));
  assert.equal(readFileSync(join(inMount, 'n\\xe9'), 'utf8'), 'latin1 name\n');
  const ls = execFileSync('ls', ['-l', '--time-style=+%s', inMount], { encoding: 'utf8' });
  const bigLine = ls.split('\n').find((l) => l.endsWith(' big.bin')) ?? '';
  const fields = bigLine.split(/\s+/);
  assert.equal(fields[4], String(5 << 20), ls);
  assert.equal(fields[5], String(Math.floor(statSync(join(src, 'big.bin')).mtimeMs / 1000)), ls);
  assert.throws(() => writeFileSync(join(inMount, 'new'), 'x'), /EROFS|EACCES|EPERM/);

  m.child.kill('SIGINT');
  const res = await m.done;
  assertExit(res, 0, 'mount after SIGINT (restic\'s mount also exits 0 once it has unmounted)');
  assertNoStackTrace(res);
  assert.equal(isMounted(mnt), false, 'no longer in /proc/self/mountinfo');
  assert.deepEqual(readdirSync(mnt), []);
  assert.deepEqual(readdirSync(join(sb.repo, 'locks')), []);
});
