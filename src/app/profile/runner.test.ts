import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidInputError, PyBackupError } from '../../errors.ts';
import { parseConfig, profileByName } from './load.ts';
import type { Profile } from './profile.ts';
import { type BackupStepResult, type ProfileSteps, type RunEvent, runProfile } from './runner.ts';
import { readState } from './state.ts';

const DAY = 86_400_000;

function setup(t: { after: (fn: () => void) => void }, body: string): { dir: string; log: string; profile: Profile } {
  const dir = mkdtempSync(join(tmpdir(), 'pybackup-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'log');
  const text = `[profiles.p]\nrepository = "/r"\npaths = ["/data/a"]\n${body.replaceAll('LOG', log)}`;
  const r = parseConfig(text, join(dir, 'c.toml'));
  assert.deepEqual(r.problems, []);
  return { dir, log, profile: profileByName(r.config as never, 'p') };
}

interface Fake extends ProfileSteps {
  calls: string[];
}

function fakeSteps(o: { backup?: () => BackupStepResult; noPrune?: boolean } = {}): Fake {
  const calls: string[] = [];
  return {
    calls,
    async backup({ sourceMap, dryRun }) {
      calls.push(`backup${sourceMap ? ` ${sourceMap.recorded}<-${sourceMap.real}` : ''}${dryRun ? ' dry' : ''}`);
      return o.backup ? o.backup() : { snapshotId: 'abc123', errors: 0, summary: { filesNew: 5, filesChanged: 1, filesUnmodified: 2, dirsNew: 1, dirsChanged: 0, dirsUnmodified: 0, dataAdded: 1000, dataAddedPacked: 600, totalFilesProcessed: 8, totalBytesProcessed: 2000 } };
    },
    async forget({ dryRun }) {
      calls.push(`forget${dryRun ? ' dry' : ''}`);
      return { removed: 2, failed: 0 };
    },
    ...(o.noPrune ? {} : { prune: async ({ dryRun }: { dryRun: boolean }) => void calls.push(`prune${dryRun ? ' dry' : ''}`) }),
    async check({ subset }) {
      calls.push(`check${subset ? ` ${subset}` : ''}`);
    },
    repositoryId: async () => 'repo1',
    close: async () => void calls.push('close'),
  };
}

async function run(p: Profile, steps: ProfileSteps, dir: string, now: number, extra: { dryRun?: boolean } = {}) {
  const events: RunEvent[] = [];
  const r = await runProfile(p, {
    configFile: join(dir, 'c.toml'),
    steps,
    now: () => now,
    statePath: join(dir, 'state.json'),
    env: { PATH: process.env.PATH ?? '/bin', PYBACKUP_PASSWORD: 'secret' },
    hookStdout: 'stderr',
    exitCodeFor: (e) => (e instanceof PyBackupError && e.code === 'WRONG_PASSWORD' ? 12 : 1),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { r, events };
}

const T0 = Date.parse('2026-03-10T02:00:00Z');
const HOOKS = `[profiles.p.hooks]
before = 'echo "before $PYBACKUP_PROFILE $PYBACKUP_REPOSITORY" >> LOG'
after = 'echo "after $PYBACKUP_SNAPSHOT_ID new=$PYBACKUP_FILES_NEW added=$PYBACKUP_DATA_ADDED removed=$PYBACKUP_SNAPSHOTS_REMOVED prune=$PYBACKUP_PRUNE check=$PYBACKUP_CHECK exit=$PYBACKUP_EXIT_CODE pw=\${PYBACKUP_PASSWORD:-none}" >> LOG'
on-failure = 'echo "failed step=$PYBACKUP_FAILED_STEP exit=$PYBACKUP_EXIT_CODE error=$PYBACKUP_ERROR" >> LOG'
`;

test('a full run: hooks, backup, forget, prune and check on their cadence, state kept', async (t) => {
  const { dir, log, profile } = setup(t, `prune-every = "7d"\ncheck-read-data-subset = "rotate/3"\nretention = { keep-last = 3 }\n${HOOKS}`);
  const steps = fakeSteps();
  const { r } = await run(profile, steps, dir, T0);
  assert.equal(r.exitCode, 0);
  assert.deepEqual(steps.calls, ['backup', 'forget', 'prune', 'check 1/3', 'close']);
  assert.deepEqual(readFileSync(log, 'utf8').split('\n'), ['before p /r', 'after abc123 new=5 added=1000 removed=2 prune=ran check=ran exit=0 pw=none', '']);
  const state = readState(join(dir, 'state.json'));
  assert.equal(state.repositories.repo1?.lastPrune, new Date(T0).toISOString());
  assert.deepEqual(state.repositories.repo1?.checkPart, { n: 1, t: 3 });
  const key = Object.keys(state.profiles)[0] as string;
  assert.match(key, /^p@/);
  assert.equal(state.profiles[key]?.lastSnapshot, 'abc123');
  assert.equal(state.profiles[key]?.lastExitCode, 0);

  const later = fakeSteps();
  const second = await run(profile, later, dir, T0 + DAY);
  assert.equal(second.r.prune, 'not-due');
  assert.deepEqual(later.calls, ['backup', 'forget', 'check 2/3', 'close']);
  const third = fakeSteps();
  await run(profile, third, dir, T0 + 2 * DAY);
  await run(profile, (third.calls.length = 0, third), dir, T0 + 7 * DAY);
  assert.deepEqual(third.calls, ['backup', 'forget', 'prune', 'check 1/3', 'close'], 'prune due again after 7 days; parts wrap around');
});

test('a failing before hook aborts the run: exit 1, no backup, on-failure runs, after does not', async (t) => {
  const { dir, log, profile } = setup(t, HOOKS.replace(`before = 'echo "before $PYBACKUP_PROFILE $PYBACKUP_REPOSITORY" >> LOG'`, "before = ['echo first >> LOG', 'exit 7', 'echo never >> LOG']"));
  const steps = fakeSteps();
  const { r } = await run(profile, steps, dir, T0);
  assert.equal(r.exitCode, 1);
  assert.equal(r.failedStep, 'before');
  assert.deepEqual(steps.calls, ['close']);
  assert.deepEqual(readFileSync(log, 'utf8').split('\n'), ['first', 'failed step=before exit=1 error=before hook "exit 7" failed: exit status 7', '']);
  const state = readState(join(dir, 'state.json'));
  const p = Object.values(state.profiles)[0];
  assert.equal(p?.lastExitCode, 1);
  assert.equal(p?.lastSuccess, undefined);
  assert.match(p?.lastError ?? '', /exit status 7/);
});

test('a failing backup: its exit code, the snapshot is still removed, nothing after it runs', async (t) => {
  const { dir, log, profile } = setup(t, `retention = { keep-last = 1 }\nsnapshot = { create = "echo create $PYBACKUP_SNAPSHOT_MOUNT >> LOG", remove = "echo remove >> LOG", mount = "/mnt/snap" }\n${HOOKS}`);
  const wrong = new PyBackupError('WRONG_PASSWORD', 'wrong password');
  const steps = fakeSteps({ backup: () => { throw wrong; } });
  const { r } = await run(profile, steps, dir, T0);
  assert.equal(r.exitCode, 12);
  assert.equal(r.error, wrong);
  assert.equal(r.failedStep, 'backup');
  assert.deepEqual(steps.calls, ['backup /data/a<-/mnt/snap', 'close'], 'the origin defaults to the only path');
  assert.deepEqual(readFileSync(log, 'utf8').split('\n'), ['before p /r', 'create /mnt/snap', 'remove', 'failed step=backup exit=12 error=wrong password', '']);
});

test('a failing snapshot create: no backup, remove still runs (it may clean up half a snapshot)', async (t) => {
  const { dir, log, profile } = setup(t, `snapshot = { create = ["echo create >> LOG", "false"], remove = ["false", "echo remove >> LOG"], mount = "/mnt/snap" }\n`);
  const steps = fakeSteps();
  const { r, events } = await run(profile, steps, dir, T0);
  assert.equal(r.failedStep, 'snapshot-create');
  assert.deepEqual(steps.calls, ['close']);
  assert.deepEqual(readFileSync(log, 'utf8').split('\n'), ['create', 'remove', ''], 'every remove command runs, even after one failed');
  assert.ok(events.some((e) => e.type === 'warning' && /snapshot-remove command "false" failed/.test(e.message)));
});

test('partial backups exit 3 and carry on; no prune in this build; dry runs only list commands', async (t) => {
  const { dir, log, profile } = setup(t, `prune-every = "1d"\ncheck = true\nretention = { keep-daily = 7 }\n${HOOKS}`);
  const steps = fakeSteps({ backup: () => ({ snapshotId: 's', errors: 2 }), noPrune: true });
  const { r, events } = await run(profile, steps, dir, T0);
  assert.equal(r.exitCode, 3);
  assert.equal(r.prune, 'unavailable');
  assert.ok(events.some((e) => e.type === 'skip' && e.step === 'prune' && /no prune command/.test(e.reason)));
  assert.match(readFileSync(log, 'utf8'), /prune=unavailable check=ran exit=3/);

  rmSync(log);
  const dry = fakeSteps();
  const d = await run(profile, dry, join(dir, 'dry'), T0, { dryRun: true });
  assert.equal(d.r.exitCode, 0);
  assert.deepEqual(dry.calls, ['backup dry', 'forget dry', 'prune dry', 'close']);
  assert.equal(existsSync(log), false, 'no hook ran');
  assert.deepEqual(d.events.filter((e) => e.type === 'command').map((e) => e.type === 'command' && e.step), ['before', 'after']);
  assert.equal(existsSync(join(dir, 'dry', 'state.json')), false, 'a dry run keeps no state');
});

test('an error that is not a PyBackupError still runs on-failure and is returned', async (t) => {
  const { dir, log, profile } = setup(t, HOOKS);
  const { r } = await run(profile, fakeSteps({ backup: () => { throw new InvalidInputError('cannot back up /data/a: no such file'); } }), dir, T0);
  assert.equal(r.exitCode, 1);
  assert.match(readFileSync(log, 'utf8'), /failed step=backup exit=1 error=cannot back up \/data\/a: no such file/);
});
