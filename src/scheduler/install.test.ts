import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyUnitPlan, planSystemdInstall, planSystemdRemove, systemdUserDir } from './install.ts';
import { parseSchedule } from './schedule.ts';

test('install writes units, replaces its own, removes stale ones of the same configuration only', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cmd = ['/opt/pb/bin/pybackup'];
  const daily = parseSchedule('daily 02:00');
  applyUnitPlan(planSystemdInstall({ dir, configFile: '/a.toml', command: cmd, all: true, profiles: [{ name: 'home', schedule: daily }, { name: 'old', schedule: daily }] }));
  applyUnitPlan(planSystemdInstall({ dir, configFile: '/b.toml', command: cmd, all: true, profiles: [{ name: 'other', schedule: daily }] }));
  mkdirSync(join(dir, 'timers.target.wants'));
  symlinkSync(join(dir, 'pybackup-old.timer'), join(dir, 'timers.target.wants', 'pybackup-old.timer'));
  // "old" left the configuration: its units (and its enablement link) go; b.toml's units stay
  const plan = planSystemdInstall({ dir, configFile: '/a.toml', command: cmd, all: true, profiles: [{ name: 'home', schedule: parseSchedule('hourly') }] });
  assert.deepEqual(plan.remove, [join(dir, 'pybackup-old.service'), join(dir, 'pybackup-old.timer'), join(dir, 'timers.target.wants', 'pybackup-old.timer')]);
  assert.deepEqual(plan.disable, ['pybackup-old.timer']);
  assert.deepEqual(plan.enable, ['pybackup-home.timer']);
  applyUnitPlan(plan);
  assert.match(readFileSync(join(dir, 'pybackup-home.timer'), 'utf8'), /OnCalendar=\*-\*-\* \*:00:00/);
  assert.equal(existsSync(join(dir, 'pybackup-old.timer')), false);
  assert.equal(existsSync(join(dir, 'pybackup-other.timer')), true);
  // naming profiles installs only those and removes nothing
  assert.deepEqual(planSystemdInstall({ dir, configFile: '/b.toml', command: cmd, all: false, profiles: [] }).remove, []);
  // a unit the user wrote is never replaced
  writeFileSync(join(dir, 'pybackup-mine.timer'), '[Timer]\nOnCalendar=daily\n');
  assert.throws(() => planSystemdInstall({ dir, configFile: '/a.toml', command: cmd, all: false, profiles: [{ name: 'mine', schedule: daily }] }), /was not written by pybackup: not replacing it/);
  // remove: one configuration's, or all of ours, never the user's
  assert.deepEqual(planSystemdRemove({ dir, configFile: '/b.toml' }).remove, [join(dir, 'pybackup-other.service'), join(dir, 'pybackup-other.timer')]);
  const all = planSystemdRemove({ dir });
  assert.equal(all.remove.length, 4);
  applyUnitPlan(all);
  assert.equal(existsSync(join(dir, 'pybackup-mine.timer')), true);
});

test('the unit directory follows XDG_CONFIG_HOME', () => {
  assert.equal(systemdUserDir({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/ann' }), '/x/cfg/systemd/user');
  assert.equal(systemdUserDir({ XDG_CONFIG_HOME: 'relative', HOME: '/home/ann' }), '/home/ann/.config/systemd/user');
});
