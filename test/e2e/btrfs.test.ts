/**
 * The btrfs recipe of docs/filesystem-snapshots.md, run for real: a btrfs filesystem in a loop file, a profile whose
 * snapshot step takes a read-only subvolume snapshot, two `pybackup run`s. The snapshot is recorded under the
 * original path, the second run reads only the changed file (files-cache hits through a fresh snapshot), and the
 * snapshot is gone afterwards. Needs root, btrfs-progs (installed by scripts/system-packages.ts) and loop mounts;
 * a machine that cannot loop-mount skips with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IS_ROOT, Sandbox, assertExit, assertSameTree, describe, jsonLines, writeRandomFile } from './helpers.ts';

function sh(cmd: string): { ok: boolean; out: string } {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

test('btrfs recipe: a snapshot step backs up a read-only subvolume snapshot as the original path', { timeout: 180_000 }, async (t) => {
  if (!IS_ROOT) return t.skip('needs root (mount, btrfs subvolume snapshot)');
  const sb = await Sandbox.create(t);
  const img = sb.path('btrfs.img');
  const mnt = sb.path('home');
  mkdirSync(mnt);
  const made = sh(`truncate -s 300M '${img}' && mkfs.btrfs -q '${img}' && mount -o loop '${img}' '${mnt}'`);
  if (!made.ok) return t.skip(`cannot make a loop-mounted btrfs here: ${made.out.split('\n').pop()}`);
  // unmounted in `finally`: node:test runs the sandbox's removal (an after hook) before later after hooks
  try {
    await recipe(sb, mnt);
  } finally {
    sh(`btrfs subvolume delete '${mnt}/.pybackup-snapshot' 2>/dev/null; umount '${mnt}'`);
  }
});

async function recipe(sb: Sandbox, mnt: string): Promise<void> {
  mkdirSync(join(mnt, 'docs', 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeRandomFile(join(mnt, 'docs', `f${i}.bin`), 50_000);
  writeFileSync(join(mnt, 'docs', 'sub', 'note.txt'), 'hello');
  const snap = join(mnt, '.pybackup-snapshot');
  writeFileSync(sb.path('pw'), 'correct horse battery staple');
  writeFileSync(
    sb.path('config.toml'),
    [
      '[profiles.home]',
      `repository = "${sb.repo}"`,
      `password-file = "${sb.path('pw')}"`,
      `paths = ["${mnt}"]`,
      `exclude = ["${snap}"]`,
      '[profiles.home.retention]',
      'keep-daily = 7',
      '[profiles.home.snapshot]',
      `mount = "${snap}"`,
      'create = [',
      `  "if [ -d ${snap} ]; then btrfs subvolume delete ${snap}; fi",`,
      `  "btrfs subvolume snapshot -r ${mnt} ${snap}",`,
      ']',
      `remove = "if [ -d ${snap} ]; then btrfs subvolume delete ${snap}; fi"`,
      '',
    ].join('\n'),
  );
  const run = async (): Promise<Record<string, unknown>> => {
    const r = await sb.cli(['--json', 'run', 'home', '--config', sb.path('config.toml')], { timeoutMs: 120_000 });
    assertExit(r, 0, 'pybackup run home');
    assert.equal(existsSync(snap), false, 'the snapshot is removed after the run');
    const s = jsonLines(r.stdout).find((l) => l.message_type === 'summary' && 'files_unmodified' in l);
    assert.ok(s, describe(r));
    return s;
  };
  const first = await run();
  assert.equal(first.files_new, 21);
  writeFileSync(join(mnt, 'docs', 'sub', 'new.txt'), 'more');
  const second = await run();
  assert.equal(second.files_new, 1, 'only the new file is new');
  assert.equal(second.files_unmodified, 21, 'unchanged files are files-cache hits through a fresh btrfs snapshot');
  const snaps = JSON.parse((await sb.cli(['--json', 'snapshots'])).stdout) as { paths: string[] }[];
  assert.deepEqual(snaps.map((s) => s.paths), [[mnt], [mnt]], 'recorded under the original path');
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(join(mnt, 'docs'), join(target, mnt, 'docs'));
  assert.deepEqual(readdirSync(join(target, mnt)), ['docs'], 'the snapshot directory itself is not in the backup');
}
