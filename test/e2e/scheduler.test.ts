/**
 * The scheduler end to end through the real CLI: `daemon` runs due profiles as child processes (one per repository
 * at a time), keeps one instance, logs and stops cleanly on SIGTERM; `status` reports; `schedule install/remove`
 * writes and removes unit files (no systemctl is run); `watch` turns changes into snapshots that restore to the
 * source tree and reuse the unchanged subtrees.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, Sandbox, assertExit, assertNoStackTrace, collect, jsonLines, runCli, spawnCli } from './helpers.ts';
import { assertSameTree } from './tree-compare.ts';

interface Env {
  readonly sb: Sandbox;
  readonly env: { readonly HOME: string; readonly XDG_STATE_HOME: string; readonly XDG_CONFIG_HOME: string; readonly XDG_RUNTIME_DIR: string; readonly PYBACKUP_CACHE_DIR: string; readonly PB_TEST_PW: string };
  readonly config: string;
  readonly home: string;
}

/** A sandbox with its own HOME, XDG directories and a configuration file. */
async function setup(t: Parameters<typeof Sandbox.create>[0], profiles: string): Promise<Env> {
  const sb = await Sandbox.create(t);
  const home = sb.path('home');
  mkdirSync(home);
  const env = {
    HOME: home,
    XDG_STATE_HOME: join(home, 'state'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    PYBACKUP_CACHE_DIR: sb.cache,
    PB_TEST_PW: PASSWORD,
  };
  const config = sb.path('config.toml');
  writeFileSync(config, `[defaults]\nrepository = "${sb.repo}"\npassword-env = "PB_TEST_PW"\n\n${profiles}`);
  return { sb, env, config, home };
}

const cli = async (e: Env, args: readonly string[]) => await runCli(args, { env: e.env });

async function statusJson(e: Env): Promise<{ daemon: { running: boolean; pid?: number }; profiles: Record<string, any>[] }> {
  const r = await cli(e, ['--json', 'status', '--config', e.config]);
  assertExit(r, 0, 'status');
  return JSON.parse(r.stdout);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The NDJSON lines a child prints, as they come. */
function messages(child: ChildProcess): { all: Record<string, unknown>[]; count(type: string): number } {
  const all: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout?.on('data', (b: Buffer) => {
    const lines = (rest + b.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) all.push(JSON.parse(l) as Record<string, unknown>);
  });
  return { all, count: (type) => all.filter((m) => m.message_type === type).length };
}

function stop(child: ChildProcess, signal: NodeJS.Signals) {
  const done = collect(child, { keepStdinOpen: true, timeoutMs: 60_000 });
  return { done, send: () => child.kill(signal) };
}

test('daemon: runs due profiles as child jobs, one per repository, one instance; status; clean stop', { timeout: 120_000 }, async (t) => {
  const e = await setup(
    t,
    `[profiles.a]\npaths = ["SRC"]\nschedule = "every 1h"\n[profiles.b]\npaths = ["SRC/sub"]\nschedule = "every 2h"\n[profiles.broken]\nrepository = "REPO-missing"\npaths = ["SRC"]\nschedule = "daily 03:00"\n[profiles.night]\npaths = ["SRC"]\nschedule = "daily 03:00"\n`,
  );
  mkdirSync(join(e.sb.src, 'sub'), { recursive: true });
  writeFileSync(join(e.sb.src, 'sub', 'f'), 'data');
  writeFileSync(e.config, readFileSync(e.config, 'utf8').replaceAll('SRC', e.sb.src).replaceAll('REPO-missing', `${e.sb.repo}-missing`));
  const daemon = spawnCli(['daemon', '--config', e.config], { env: e.env });
  const d = stop(daemon, 'SIGTERM');
  // the daemon's state file says when both jobs have ended (cheaper to poll than `status`)
  const stateFile = join(e.env.XDG_STATE_HOME, 'pybackup', 'daemon-state.json');
  await until('both runs', async () => {
    if (!existsSync(stateFile)) return undefined;
    const st = JSON.parse(readFileSync(stateFile, 'utf8')) as { profiles: Record<string, { last?: unknown }> };
    return Object.values(st.profiles).filter((p) => p.last).length >= 2 ? true : undefined;
  });
  const s = await statusJson(e);
  assert.equal(s.daemon.running, true);
  const [a, b, broken, night] = s.profiles as [Record<string, any>, Record<string, any>, Record<string, any>, Record<string, any>];
  assert.equal(a.last_run.result, 'ok');
  assert.ok(a.last_run.bytes_added > 0);
  assert.match(a.last_run.snapshot_id, /^[0-9a-f]{64}$/);
  assert.equal(b.last_run.result, 'ok');
  // a and b share the repository: the second began after the first ended
  const [first, second] = [a.last_run, b.last_run].sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
  assert.ok(Date.parse(second.start) >= Date.parse(first.end), `${JSON.stringify(first)} then ${JSON.stringify(second)}`);
  assert.equal(broken.last_run, null);
  assert.equal(night.last_run, null);
  assert.equal(new Date(night.next_run).getHours(), 3);

  // one daemon per user
  const again = await cli(e, ['daemon', '--config', e.config]);
  assertExit(again, 11, 'second daemon');
  assert.match(again.stderr, /another pybackup daemon is running \(pid \d+/);
  assertNoStackTrace(again);

  const text = await cli(e, ['status', '--config', e.config]);
  assertExit(text, 0, 'status');
  assert.match(text.stdout, /^daemon: running \(pid \d+/);
  assert.match(text.stdout, /^a +every 1h +\S+ +\S+ +ok /m);

  d.send();
  const r = await d.done;
  assertExit(r, 0, 'daemon stop');
  assertNoStackTrace(r);
  const log = readFileSync(join(e.env.XDG_STATE_HOME, 'pybackup', 'daemon.log'), 'utf8');
  assert.match(log, / info a: ok, snapshot [0-9a-f]{8}, \d+ bytes added in /);
  assert.match(log, / info daemon stopped\n$/);
  assert.equal(existsSync(join(e.env.XDG_RUNTIME_DIR, 'pybackup', 'daemon.pid')), false, 'pid file removed');
  const after = await statusJson(e);
  assert.equal(after.daemon.running, false);
  const snaps = JSON.parse((await e.sb.cli(['--json', 'snapshots'])).stdout) as unknown[];
  assert.equal(snaps.length, 2);
});

test('daemon and status: a bad configuration is a clear error', { timeout: 60_000 }, async (t) => {
  const e = await setup(t, '[profiles.x]\npaths = ["/nonexistent"]\nschedule = "daily 25:00"\n');
  for (const args of [['daemon', '--config', e.config], ['status', '--config', e.config], ['schedule', 'install', '--config', e.config]]) {
    const r = await cli(e, args);
    assertExit(r, 1, args[0]);
    assert.match(r.stderr, /config\.toml:\d+:\d+: invalid schedule "daily 25:00": no such time of day/);
    assertNoStackTrace(r);
  }
  const bad = await cli(e, ['daemon', '--config', e.config, '--max-jobs', '0']);
  assertExit(bad, 1, 'max-jobs');
  assert.match(bad.stderr, /--max-jobs must be a whole number from 1 to 64/);
});

test('schedule install/remove: unit files written and removed, no systemctl run', { timeout: 60_000 }, async (t) => {
  const e = await setup(t, `[profiles.home]\npaths = ["/srv"]\nschedule = "daily 02:00"\n[profiles.often]\npaths = ["/srv"]\nschedule = "every 6h"\n[profiles.adhoc]\npaths = ["/srv"]\n`);
  const unitDir = join(e.env.XDG_CONFIG_HOME, 'systemd', 'user');
  const dry = await cli(e, ['schedule', 'install', '--config', e.config, '--dry-run']);
  assertExit(dry, 0, 'dry run');
  assert.match(dry.stdout, /would write .*pybackup-home\.timer:\n(.*\n)*    OnCalendar=\*-\*-\* 02:00:00\n    # .*\n    Persistent=true/);
  assert.match(dry.stdout, /profile adhoc has no schedule: skipped/);
  assert.equal(existsSync(unitDir), false);
  const inst = await cli(e, ['schedule', 'install', '--config', e.config]);
  assertExit(inst, 0, 'install');
  assert.deepEqual(readdirSync(unitDir).sort(), ['pybackup-home.service', 'pybackup-home.timer', 'pybackup-often.service', 'pybackup-often.timer']);
  assert.match(readFileSync(join(unitDir, 'pybackup-often.timer'), 'utf8'), /OnUnitActiveSec=6h/);
  assert.match(readFileSync(join(unitDir, 'pybackup-home.service'), 'utf8'), new RegExp(`ExecStart=\\S+pybackup run home --config ${e.config}`));
  assert.match(inst.stdout, /now run: systemctl --user daemon-reload && systemctl --user enable --now pybackup-home\.timer pybackup-often\.timer/);
  const cron = await cli(e, ['schedule', 'install', '--cron', '--dry-run', '--config', e.config]);
  assertExit(cron, 0, 'cron dry run');
  assert.match(cron.stdout, /^0 \*\/6 \* \* \* \S+ --quiet run often --config /m);
  const rm = await cli(e, ['schedule', 'remove']);
  assertExit(rm, 0, 'remove');
  assert.deepEqual(readdirSync(unitDir), []);
  assert.match(rm.stdout, /now run: systemctl --user stop pybackup-home\.timer pybackup-often\.timer && systemctl --user daemon-reload/);
  const named = await cli(e, ['schedule', 'install', 'adhoc', '--config', e.config]);
  assertExit(named, 1, 'unscheduled profile');
  assert.match(named.stderr, /profile adhoc has no schedule/);
});

test('watch: changes become snapshots that restore to the source; unchanged subtrees keep their tree ids', { timeout: 120_000 }, async (t) => {
  const e = await setup(t, '[profiles.docs]\npaths = ["SRC"]\nexclude = ["*.tmp"]\n');
  writeFileSync(e.config, readFileSync(e.config, 'utf8').replace('SRC', e.sb.src));
  for (const d of ['keep/deep', 'work']) mkdirSync(join(e.sb.src, d), { recursive: true });
  writeFileSync(join(e.sb.src, 'keep/deep/k'), 'unchanged');
  writeFileSync(join(e.sb.src, 'work/w'), 'v1');
  const watch = spawnCli(['--json', 'watch', 'docs', '--config', e.config, '--quiet-period', '300ms', '--rescan-every', '10m'], { env: e.env });
  const m = messages(watch);
  const w = stop(watch, 'SIGINT');
  await until('the first snapshot', async () => (m.count('watch_backup_done') === 1 ? true : undefined));
  writeFileSync(join(e.sb.src, 'work/w'), 'v2, longer');
  mkdirSync(join(e.sb.src, 'work/new'));
  writeFileSync(join(e.sb.src, 'work/new/n'), 'new');
  writeFileSync(join(e.sb.src, 'ignored.tmp'), 'excluded: no backup for this');
  await until('the second snapshot', async () => (m.count('watch_backup_done') === 2 ? true : undefined));
  await sleep(1000);
  assert.equal(m.count('watch_backup_start'), 2, 'the excluded file made no backup');
  w.send();
  const r = await w.done;
  assertExit(r, 0, 'watch stopped by SIGINT');
  const msgs = jsonLines(r.stdout).map((m) => m.message_type);
  assert.ok(msgs.includes('watch_watching') && msgs.includes('watch_backup_done') && msgs.includes('watch_stopped'), msgs.join(' '));
  const target = e.sb.path('restored');
  assertExit(await e.sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  rmSync(join(e.sb.src, 'ignored.tmp'));
  assertSameTree(e.sb.src, join(target, e.sb.src), { skipRootTimes: true });
  const subtrees = async (snap: string): Promise<Map<string, string | undefined>> => {
    const r2 = await e.sb.cli(['cat', 'tree', `${snap}:${e.sb.src}`]);
    assertExit(r2, 0, 'cat tree');
    return new Map((JSON.parse(r2.stdout) as { nodes: { name: string; subtree?: string }[] }).nodes.map((n) => [n.name, n.subtree]));
  };
  const [s1, s2] = m.all.filter((x) => x.message_type === 'watch_backup_done').map((x) => x.snapshot_id as string) as [string, string];
  const [t1, t2] = [await subtrees(s1), await subtrees(s2)];
  assert.ok(t1.get('keep'));
  assert.equal(t2.get('keep'), t1.get('keep'), 'the unchanged directory reuses its tree');
  assert.notEqual(t2.get('work'), t1.get('work'));
});
