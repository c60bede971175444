/**
 * Profiles end to end: a TOML file, `run PROFILE` against a local repository (backup + forget + hooks), a failing
 * before hook, `config check` with exact positions, `backup --as-path`, and a profile with a filesystem snapshot step
 * (a bind mount or a plain copy stands in for btrfs/LVM, which this machine does not have).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CACHEDIR_TAG_SIGNATURE } from '../../src/archiver/excludes.ts';
import { IS_ROOT, PASSWORD, Sandbox, assertExit, assertNoStackTrace, collect, describe, jsonLines, runCli, spawnCli } from './helpers.ts';

interface Snap {
  id: string;
  paths: string[];
  tags?: string[];
  parent?: string;
}

function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function snapshots(sb: Sandbox): Promise<Snap[]> {
  const r = await sb.cli(['--json', 'snapshots']);
  assertExit(r, 0, 'snapshots');
  return JSON.parse(r.stdout) as Snap[];
}

/** `pybackup run` with a config file, the sandbox's cache, and the password only in PB_TEST_PW (password-env). */
async function run(sb: Sandbox, config: string, args: readonly string[]) {
  return await runCli(['--json', 'run', '--config', config, ...args], { env: { PYBACKUP_CACHE_DIR: sb.cache, PB_TEST_PW: PASSWORD } });
}

function summaryOf(stdout: string): Record<string, unknown> {
  const s = jsonLines(stdout).filter((l) => l.message_type === 'profile_summary');
  assert.equal(s.length, 1, stdout);
  return s[0] as Record<string, unknown>;
}

function writeTree(dir: string): void {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(dir, 'cache'), { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'alpha');
  writeFileSync(join(dir, 'sub', 'b.txt'), 'bravo');
  writeFileSync(join(dir, 'scratch.tmp'), 'excluded by pattern');
  writeFileSync(join(dir, 'cache', 'CACHEDIR.TAG'), `${CACHEDIR_TAG_SIGNATURE}\n`);
  writeFileSync(join(dir, 'cache', 'big'), 'excluded as a cache');
}

test('run: backup + forget keep the right snapshots; hooks see the run; a failing before hook aborts', { timeout: 240_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  writeTree(sb.src);
  const other = sb.path('other');
  mkdirSync(other);
  writeFileSync(join(other, 'x'), 'not this profile');
  const foreign = await sb.backup([other]);
  const config = sb.path('config.toml');
  writeFileSync(
    config,
    `[defaults]
repository = "${sb.repo}"
password-env = "PB_TEST_PW"

[profiles.docs]
paths = ["${sb.src}"]
tags = ["docs"]
exclude = ["*.tmp"]
exclude-caches = true
[profiles.docs.retention]
keep-last = 2
[profiles.docs.hooks]
before = 'env | sort > "${sb.dir}/before.env"'
after = 'env | sort > "${sb.dir}/after.env"'

[profiles.broken]
paths = ["${sb.src}"]
[profiles.broken.hooks]
before = ["echo started", "exit 4"]
after = 'touch "${sb.dir}/after-ran"'
on-failure = 'env | sort > "${sb.dir}/failure.env"'
`,
  );
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await run(sb, config, ['docs']);
    assertExit(r, 0, `run ${i + 1}`);
    const s = summaryOf(r.stdout);
    assert.equal(s.exit_code, 0);
    ids.push(s.snapshot_id as string);
    const after = envFile(sb.path('after.env'));
    assert.equal(after.PYBACKUP_PROFILE, 'docs');
    assert.equal(after.PYBACKUP_REPOSITORY, sb.repo);
    assert.equal(after.PYBACKUP_CONFIG, config);
    assert.equal(after.PYBACKUP_HOOK, 'after');
    assert.equal(after.PYBACKUP_SNAPSHOT_ID, ids[i]);
    assert.equal(after.PYBACKUP_EXIT_CODE, '0');
    assert.equal(after.PYBACKUP_FILES_NEW, i === 0 ? '3' : '0', 'a.txt, b.txt and the cache tag; not *.tmp, not the cache contents');
    assert.equal(after.PYBACKUP_FILES_UNMODIFIED, i === 0 ? '0' : '3');
    if (i === 0) assert.ok(Number(after.PYBACKUP_DATA_ADDED) > 0);
    assert.match(after.PYBACKUP_DURATION_MS ?? '', /^\d+$/);
    assert.equal(after.PYBACKUP_SNAPSHOTS_REMOVED, i === 2 ? '1' : '0');
    assert.equal(after.PYBACKUP_PRUNE, 'not-configured');
    assert.equal(after.PYBACKUP_PASSWORD, undefined, 'no password in the hook environment');
    assert.equal(after.PB_TEST_PW, undefined, 'nor the password-env variable');
    assert.equal(after.PYBACKUP_CACHE_DIR, sb.cache, 'the rest of the environment is passed on');
    const before = envFile(sb.path('before.env'));
    assert.equal(before.PYBACKUP_SNAPSHOT_ID, undefined, 'not known before the backup');
    assert.equal(before.PYBACKUP_HOOK, 'before');
  }
  const after3 = await snapshots(sb);
  assert.deepEqual(after3.map((s) => s.id).sort(), [foreign.snapshot_id, ids[1], ids[2]].sort(), 'keep-last 2 of the profile, the other snapshot untouched');
  assert.deepEqual(after3.find((s) => s.id === ids[2])?.tags, ['docs']);

  const dry = await runCli(['run', '--config', config, 'docs', '--dry-run'], { env: { PYBACKUP_CACHE_DIR: sb.cache, PB_TEST_PW: PASSWORD } });
  assertExit(dry, 0, 'dry run');
  assert.match(dry.stdout, /\[docs\] would run before hook: env \| sort/);
  assert.match(dry.stdout, /Would have removed the following snapshots|keep 2/);
  assert.equal((await snapshots(sb)).length, 3, 'a dry run changes nothing');

  const broken = await run(sb, config, ['broken']);
  assertExit(broken, 1, 'run broken');
  assertNoStackTrace(broken);
  assert.match(broken.stderr, /\[broken\] failed during before hook \(exit 1\): before hook "exit 4" failed: exit status 4/);
  assert.match(broken.stderr, /started/, 'hook output goes to stderr with --json');
  assert.equal(summaryOf(broken.stdout).failed_step, 'before');
  const failure = envFile(sb.path('failure.env'));
  assert.equal(failure.PYBACKUP_HOOK, 'on-failure');
  assert.equal(failure.PYBACKUP_FAILED_STEP, 'before');
  assert.equal(failure.PYBACKUP_EXIT_CODE, '1');
  assert.equal(failure.PYBACKUP_ERROR, 'before hook "exit 4" failed: exit status 4');
  assert.equal(existsSync(sb.path('after-ran')), false, 'no after hook after a failure');
  assert.equal((await snapshots(sb)).length, 3, 'no backup after a failed before hook');

  const listed = await runCli(['--json', 'profiles', '--config', config], { env: { PYBACKUP_CACHE_DIR: sb.cache } });
  assertExit(listed, 0, 'profiles');
  const rows = (JSON.parse(listed.stdout) as { profiles: Record<string, unknown>[] }).profiles;
  assert.deepEqual(rows.map((r) => [r.name, r.last_exit_code, r.last_snapshot]), [['docs', 0, ids[2]], ['broken', 1, null]]);

  const unknown = await run(sb, config, ['doc']);
  assertExit(unknown, 1, 'unknown profile');
  assert.match(unknown.stderr, /no profile "doc" in .*; did you mean "docs"\?/);
  const nopw = await runCli(['run', '--config', config, 'docs'], { env: { PYBACKUP_CACHE_DIR: sb.cache } });
  assertExit(nopw, 1, 'password-env not set');
  assertNoStackTrace(nopw);
  assert.match(nopw.stderr, /the environment variable PB_TEST_PW \(password-env\) is not set/);
});

test('config check: good and bad files, exact lines and columns; run refuses a bad file', { timeout: 60_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const good = sb.path('good.toml');
  writeFileSync(good, '[profiles.a]\nrepository = "/srv/r"\npaths = ["/etc"]\nschedule = "weekly mon 03:00"\nretention = { keep-daily = 7 }\n');
  const ok = await runCli(['config', 'check', good]);
  assertExit(ok, 0, 'check good');
  assert.equal(ok.stdout, `${good}: OK, 1 profile (a)\n`);

  const bad = sb.path('bad.toml');
  writeFileSync(
    bad,
    [
      '[defaults]', //                          1
      'repository = "/srv/r"', //               2
      '[profiles.a]', //                        3
      'paths = ["/etc", 42]', //                4
      'exclude_caches = true', //               5
      'schedule = "every 6 hours"', //          6
      '[profiles.a.retention]', //              7
      'keep-daily = "seven"', //                8
      'keep-wekly = 4', //                      9
    ].join('\n'),
  );
  const r = await runCli(['config', 'check', bad]);
  assertExit(r, 1, 'check bad');
  assertNoStackTrace(r);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith(bad)), [
    `${bad}:4:18: profiles.a.paths[1]: expected a string, got an integer`,
    `${bad}:5:1: profiles.a.exclude_caches: unknown key; did you mean "exclude-caches"?`,
    `${bad}:6:12: invalid schedule "every 6 hours": unknown unit "hours" (units: m, h, d, w)`,
    `${bad}:8:14: profiles.a.retention.keep-daily: expected a whole number >= 0 or "unlimited", got "seven"`,
    `${bad}:9:1: profiles.a.retention.keep-wekly: unknown key; did you mean "keep-weekly"?`,
  ]);
  assert.match(r.stdout, / {3}5 \| exclude_caches = true\n {7}\| \^/, 'the line and a caret under the column');
  assert.match(r.stderr, /5 problems found/);
  const json = await runCli(['--json', 'config', 'check', bad]);
  const parsed = JSON.parse(json.stdout.split('\n')[0] ?? '') as { valid: boolean; problems: { line: number; column: number; key: string }[] };
  assert.equal(parsed.valid, false);
  assert.deepEqual(parsed.problems.map((p) => [p.line, p.column, p.key]), [[4, 18, 'profiles.a.paths[1]'], [5, 1, 'profiles.a.exclude_caches'], [6, 12, 'profiles.a.schedule'], [8, 14, 'profiles.a.retention.keep-daily'], [9, 1, 'profiles.a.retention.keep-wekly']]);

  const syntax = sb.path('syntax.toml');
  writeFileSync(syntax, '[profiles.a]\nrepository = "/srv/r\n');
  const s = await runCli(['config', 'check', syntax]);
  assertExit(s, 1, 'syntax error');
  assert.match(s.stdout, new RegExp(`^${syntax.replaceAll('/', '\\/')}:2:\\d+: TOML syntax error: `));

  const refused = await runCli(['run', '--config', bad, 'a']);
  assertExit(refused, 1, 'run with a bad file');
  assertNoStackTrace(refused);
  assert.match(refused.stderr, /bad\.toml:5:1: profiles\.a\.exclude_caches: unknown key/);
  assertExit(await runCli(['config', 'check', sb.path('missing.toml')]), 1, 'missing file');
  const viaEnv = await runCli(['config', 'check'], { env: { PYBACKUP_CONFIG: good } });
  assertExit(viaEnv, 0, 'PYBACKUP_CONFIG');
});

test('backup --as-path: recorded paths, parent and files cache survive a new mount point', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  writeTree(sb.src);
  const first = await sb.backup([sb.src, '--as-path', '/data/docs']);
  assert.equal(first.files_new, 5);
  const [snap] = await snapshots(sb);
  assert.deepEqual(snap?.paths, ['/data/docs']);

  if (IS_ROOT) {
    // a bind mount keeps inodes and ctimes, as a btrfs snapshot does: the files cache hits from the new place
    const mnt = sb.path('mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['--bind', sb.src, mnt]);
    // unmounted here, not in t.after: the sandbox's removal would otherwise run first and walk into the mount
    try {
      const fromMount = await sb.backup([mnt, '--as-path', '/data/docs']);
      assert.equal(fromMount.files_unmodified, 5);
      assert.equal(fromMount.files_new + fromMount.files_changed, 0);
    } finally {
      execFileSync('umount', [mnt]);
    }
  }
  // a plain copy (new inodes and ctimes): a files-cache miss, but the same recorded paths, parent and data
  const copy = sb.path('copy');
  cpSync(sb.src, copy, { recursive: true, preserveTimestamps: true });
  const fromCopy = await sb.backup([copy, '--as-path', '/data/docs']);
  assert.equal(fromCopy.files_changed, 5, 'inode and ctime differ: re-read');
  assert.equal(fromCopy.data_blobs, 0, 'but no new data');
  const all = await snapshots(sb);
  assert.ok(all.every((s) => s.paths.join() === '/data/docs'));
  assert.equal(all.at(-1)?.parent, all.at(-2)?.id, 'each backup found the previous one as parent');
  const target = sb.path('restored');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assert.equal(readFileSync(join(target, 'data', 'docs', 'sub', 'b.txt'), 'utf8'), 'bravo');

  for (const [args, re] of [
    [[sb.src, copy, '--as-path', '/x'], /--as-path maps exactly one source path/],
    [[sb.src, '--as-path', 'relative'], /recorded path must be an absolute path/],
    [['--stdin', '--as-path', '/x'], /--as-path cannot be combined with --stdin/],
    [[sb.path('nope'), '--as-path', '/x'], /cannot back up \/x \(read from .*nope\)/],
  ] as const) {
    const r = await sb.cli(['backup', ...args]);
    assertExit(r, 1, args.join(' '));
    assertNoStackTrace(r);
    assert.match(r.stderr, re, describe(r));
  }
});

test('a profile with a filesystem snapshot step backs up the snapshot as the original paths', { timeout: 180_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  writeTree(sb.src);
  const mount = sb.path('snap');
  // root: a bind mount stands in for a btrfs/LVM snapshot (same inodes and ctimes); otherwise a plain copy
  const create = IS_ROOT ? `mkdir -p "$PYBACKUP_SNAPSHOT_MOUNT" && mount --bind "$PYBACKUP_SNAPSHOT_ORIGIN" "$PYBACKUP_SNAPSHOT_MOUNT"` : `cp -a "$PYBACKUP_SNAPSHOT_ORIGIN" "$PYBACKUP_SNAPSHOT_MOUNT"`;
  const remove = IS_ROOT ? `umount "$PYBACKUP_SNAPSHOT_MOUNT" && rmdir "$PYBACKUP_SNAPSHOT_MOUNT"` : `rm -rf "$PYBACKUP_SNAPSHOT_MOUNT"`;
  const config = sb.path('config.toml');
  writeFileSync(
    config,
    `[profiles.snap]
repository = "${sb.repo}"
password-env = "PB_TEST_PW"
paths = ["${sb.src}/sub", "${sb.src}/a.txt"]
[profiles.snap.snapshot]
origin = "${sb.src}"
mount = "${mount}"
create = '${create}'
remove = '${remove} && echo removed >> "${sb.dir}/log"'
[profiles.snap.hooks]
after = 'echo "after $PYBACKUP_SNAPSHOT_MOUNT $PYBACKUP_SNAPSHOT_ORIGIN" >> "${sb.dir}/log"'
`,
  );
  try {
    await snapshotRuns(sb, config, mount);
  } finally {
    // a run that failed half-way may leave the stand-in mounted: unmount it before the sandbox is removed
    if (IS_ROOT) spawnSync('umount', [mount]);
  }
});

async function snapshotRuns(sb: Sandbox, config: string, mount: string): Promise<void> {
  const r1 = await run(sb, config, ['snap']);
  assertExit(r1, 0, 'first run');
  assert.equal(existsSync(mount), false, 'the snapshot was removed');
  assert.equal(readFileSync(sb.path('log'), 'utf8'), `removed\nafter ${mount} ${sb.src}\n`);
  const [s1] = await snapshots(sb);
  assert.deepEqual(s1?.paths, [`${sb.src}/a.txt`, `${sb.src}/sub`], 'the original paths are recorded');
  const r2 = await run(sb, config, ['snap']);
  assertExit(r2, 0, 'second run');
  const second = jsonLines(r2.stdout).find((l) => l.message_type === 'summary') as Record<string, number>;
  if (IS_ROOT) assert.equal(second.files_unmodified, 2, 'the files cache hits through a fresh snapshot mount');
  else assert.equal(second.files_changed, 2, 'a copy has new inodes: re-read, deduplicated');
  assert.equal((await snapshots(sb)).at(-1)?.parent, s1?.id);

  // the backup fails (a path missing in the snapshot): the snapshot is still removed
  writeFileSync(config, readFileSync(config, 'utf8').replace(`"${sb.src}/a.txt"`, `"${sb.src}/gone"`));
  const r3 = await run(sb, config, ['snap']);
  assertExit(r3, 1, 'failing backup');
  assertNoStackTrace(r3);
  assert.match(r3.stderr, /failed during backup \(exit 1\): cannot back up .*\/gone \(read from .*\/snap\/gone\)/);
  assert.equal(existsSync(mount), false, 'removed after the failure too');
}

test('backup --compression overrides the repository level for one backup; re: exclude patterns', { timeout: 60_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'text'), 'all work and no play makes jack a dull boy\n'.repeat(40_000));
  writeFileSync(join(sb.src, 'noise.log'), 'excluded by a regular expression');
  const raw = await sb.backup([sb.src, '--compression', '0', '--exclude', 're:\\.log$']);
  assert.equal(raw.files_new, 1, 'the .log file is excluded');
  const stored = (x: object): number => (x as { data_added_packed: number }).data_added_packed;
  assert.ok(stored(raw) >= raw.data_added, `level 0 stores raw: ${stored(raw)} >= ${raw.data_added}`);
  writeFileSync(join(sb.src, 'text'), 'all work and no play makes jill a dull girl\n'.repeat(40_000));
  const packed = await sb.backup([sb.src, '--compression', '19']);
  assert.ok(stored(packed) * 20 < packed.data_added, `level 19 compresses: ${stored(packed)} vs ${packed.data_added}`);
  for (const bad of ['20', 'max', '-1']) {
    const r = await sb.cli(['backup', sb.src, '--compression', bad]);
    assertExit(r, 1, `--compression ${bad}`);
    assert.match(r.stderr, /--compression must be an integer from 0 to 19/);
  }
  const badRe = await sb.cli(['backup', sb.src, '--exclude', 're:(']);
  assertExit(badRe, 1, 'bad regex');
  assertNoStackTrace(badRe);
  assert.match(badRe.stderr, /--exclude: invalid pattern "re:\("/);
});

test('Ctrl-C during a run stops the hook, runs snapshot remove and on-failure, exits 130', { timeout: 60_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  const config = sb.path('config.toml');
  writeFileSync(
    config,
    `[profiles.slow]
repository = "${sb.repo}"
paths = ["${sb.src}"]
[profiles.slow.snapshot]
mount = "${sb.path('snap')}"
create = 'mkdir "$PYBACKUP_SNAPSHOT_MOUNT" && sleep 60'
remove = 'rmdir "$PYBACKUP_SNAPSHOT_MOUNT"'
[profiles.slow.hooks]
on-failure = 'echo "$PYBACKUP_FAILED_STEP $PYBACKUP_EXIT_CODE" > "${sb.dir}/failed"'
`,
  );
  const child = spawnCli(['run', '--config', config, 'slow'], { env: sb.env });
  const done = collect(child);
  for (let i = 0; i < 100 && !existsSync(sb.path('snap')); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(sb.path('snap')), 'the create command is running');
  const t0 = Date.now();
  child.kill('SIGINT');
  const r = await done;
  assertExit(r, 130, 'interrupted run');
  assert.ok(Date.now() - t0 < 10_000, 'the sleeping command was stopped');
  assertNoStackTrace(r);
  assert.equal(existsSync(sb.path('snap')), false, 'snapshot remove ran');
  assert.equal(readFileSync(sb.path('failed'), 'utf8'), 'snapshot-create 130\n');
});
