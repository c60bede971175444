import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, configCandidates, findConfigFile, loadConfig, parseConfig, profileByName } from './load.ts';
import { closest } from './suggest.ts';

const GOOD = `# backups of this machine
[defaults]
repository = "/srv/repo"
password-file = "/etc/pybackup/pw"
exclude-caches = true

[defaults.retention]
keep-daily = 7
keep-weekly = 4

[profiles.home]
paths = ["/home", "~/docs"]
exclude = ["*.tmp", "re:\\\\.cache$"]
exclude-larger-than = "2G"
tags = ["home"]
schedule = "daily 02:00"
prune-every = "7d"
check-read-data-subset = "rotate/7"
hooks.before = "echo start"
hooks.on-failure = ["echo failed", "true"]
limits = { nice = 19, ionice = "idle", limit-upload = 1024 }

[profiles.home.retention]
keep-daily = 14
keep-monthly = "unlimited"
keep-within = "2d"

[profiles.root]
repository = "/srv/other"
password-env = "ROOT_PW"
paths = ["/"]
xattrs = false
retention = {}
[profiles.root.snapshot]
create = "btrfs subvolume snapshot -r / /.snap"
remove = "btrfs subvolume delete /.snap"
mount = "/.snap"
`;

function problems(text: string): string[] {
  const r = parseConfig(text, 'c.toml');
  assert.equal(r.config, undefined, 'expected problems');
  return r.problems.map((p) => `${p.line ?? '-'}:${p.column ?? '-'} ${p.message}`);
}

test('a good file: defaults merge under profiles, values are normalized', () => {
  const r = parseConfig(GOOD, 'c.toml');
  assert.deepEqual(r.problems, []);
  assert.ok(r.config);
  assert.deepEqual([...r.config.profiles.keys()], ['home', 'root']);
  const home = profileByName(r.config, 'home');
  assert.equal(home.repository, '/srv/repo');
  assert.equal(home.passwordFile, '/etc/pybackup/pw');
  assert.equal(home.backup.paths[1]?.endsWith('/docs'), true);
  assert.equal(home.backup.paths[1]?.startsWith('~'), false, '~ is expanded');
  assert.deepEqual(home.backup.exclude, ['*.tmp', 're:\\.cache$']);
  assert.equal(home.backup.excludeCaches, true);
  assert.equal(home.backup.xattrs, true);
  assert.equal(home.retention.daily, 14, 'the profile replaces the default');
  assert.equal(home.retention.weekly, 4, 'tables merge key by key');
  assert.equal(home.retention.monthly, -1);
  assert.deepEqual(home.retention.within, { years: 0, months: 0, days: 2, hours: 0 });
  assert.equal(home.pruneEveryMs, 7 * 86_400_000);
  assert.equal(home.check, true);
  assert.deepEqual(home.hooks, { before: ['echo start'], after: [], onFailure: ['echo failed', 'true'] });
  assert.deepEqual(home.limits, { nice: 19, ionice: { class: 'idle' }, limitUpload: 1024 });
  assert.deepEqual(home.schedule, { kind: 'daily', hour: 2, minute: 0 });
  const root = profileByName(r.config, 'root');
  assert.equal(root.passwordFile, undefined, "the profile's password source replaces the default's");
  assert.equal(root.passwordEnv, 'ROOT_PW');
  assert.equal(root.backup.xattrs, false);
  assert.deepEqual(root.snapshot, { create: ['btrfs subvolume snapshot -r / /.snap'], remove: ['btrfs subvolume delete /.snap'], mount: '/.snap', origin: '/' });
  assert.throws(() => profileByName(r.config as never, 'hom'), /no profile "hom".*did you mean "home"/);
});

test('syntax errors carry the parser position', () => {
  assert.deepEqual(problems('[profiles.a]\npaths = ["/x"\nrepository = "r"\n'), ['3:1 TOML syntax error: expected comma or end of structure']);
  assert.deepEqual(problems('[profiles.a]\nrepository = \n'), ['2:14 TOML syntax error: invalid value']);
});

test('unknown keys point to their line and suggest the closest known key', () => {
  const text = [
    '[profiles.home]', //                     1
    'repository = "/r"', //                   2
    'paths = ["/home"]', //                   3
    'exclude_caches = true', //               4
    'keep-daily = 7', //                      5
    'tag = ["x"]', //                         6
    'frobnicate = 1', //                      7
    '[profiles.home.retention]', //           8
    'keep-dayly = 3', //                      9
    '[profiles.home.hooks]', //               10
    'before = "x"', //                        11
    'onfailure = "y"', //                     12
    '[profile.work]', //                      13
    'repository = "/r"', //                   14
  ].join('\n');
  assert.deepEqual(problems(text), [
    '4:1 profiles.home.exclude_caches: unknown key; did you mean "exclude-caches"?',
    '5:1 profiles.home.keep-daily: unknown key; did you mean "retention.keep-daily" (in the profile\'s [retention] table)?',
    '6:1 profiles.home.tag: unknown key; did you mean "tags"?',
    '7:1 profiles.home.frobnicate: unknown key',
    '9:1 profiles.home.retention.keep-dayly: unknown key; did you mean "keep-daily"?',
    '12:1 profiles.home.hooks.onfailure: unknown key; did you mean "on-failure"?',
    '13:2 profile: unknown key; did you mean "profiles"?',
  ]);
});

test('type errors name the expected type and point to the value', () => {
  const text = [
    '[profiles.home]',
    'repository = 42',
    'paths = ["/home", 7, "relative/dir"]',
    'exclude-caches = "yes"',
    'compression = 25',
    'exclude = ["[unclosed"]',
    'exclude-larger-than = "big"',
    'schedule = "daily 25:00"',
    'limits = { nice = 1.5, ionice = "fast" }',
    'hooks = "echo"',
    '[profiles.home.retention]',
    'keep-daily = -3',
    'keep-within = "2 weeks"',
  ].join('\n');
  const got = problems(text);
  const expect = [
    /^2:14 profiles\.home\.repository: expected a string, got an integer$/,
    /^3:19 profiles\.home\.paths\[1\]: expected a string, got an integer$/,
    /^3:22 .*"relative\/dir" is not an absolute path/,
    /^4:18 profiles\.home\.exclude-caches: expected a boolean \(true or false\), got a string$/,
    /^5:15 profiles\.home\.compression: must be from 0 to 19/,
    /^6:12 .*invalid pattern "\[unclosed"/,
    /^7:23 invalid size "big"/,
    /^8:12 invalid schedule "daily 25:00": no such time of day/,
    /^9:19 profiles\.home\.limits\.nice: expected an integer, got a float$/,
    /^9:33 invalid ionice "fast"/,
    /^10:9 profiles\.home\.hooks: expected a table, got a string$/,
    /^12:14 profiles\.home\.retention\.keep-daily: expected a whole number >= 0 or "unlimited", got -3$/,
    /^13:15 invalid duration "2 weeks"/,
  ];
  assert.equal(got.length, expect.length, got.join('\n'));
  got.forEach((g, i) => assert.match(g, expect[i] as RegExp));
});

test('problems that involve several keys', () => {
  assert.deepEqual(problems('[profiles.a]\npaths = ["/x"]\n'), ['1:11 profiles.a: no repository: set "repository" in the profile or in [defaults]']);
  assert.deepEqual(problems('[profiles.a]\nrepository = "/r"\n'), ['1:11 profiles.a: nothing to back up: set "paths" (or "files-from")']);
  assert.deepEqual(problems('[profiles.a]\nrepository = "/r"\npaths = ["/x"]\npassword-file = "/p"\npassword-command = "cat /p"\n'), [
    '5:1 profiles.a: "password-file" and "password-command" are mutually exclusive: give one password source',
  ]);
  assert.deepEqual(problems('[profiles.a]\nrepository = "/r"\npaths = ["/home/a", "/etc"]\nsnapshot = { mount = "/mnt/s", origin = "/home" }\n'), [
    '3:21 profiles.a.paths[1]: /etc is not inside the snapshot origin /home',
  ]);
  assert.deepEqual(problems('[profiles.a]\nrepository = "/r"\npaths = ["/x", "/y"]\n[profiles.a.snapshot]\nmount = "/m"\n'), [
    '4:13 profiles.a.snapshot: "origin" is missing: name the path the snapshot is of (needed with more than one path)',
  ]);
  assert.deepEqual(problems('x = 1\n'), ['1:1 x: unknown key', '-:- no profiles: add at least one [profiles.NAME] table']);
  assert.deepEqual(problems('[home]\nrepository = "/r"\n'), [
    '1:2 home: unknown key; profiles are tables under [profiles], e.g. [profiles.home]',
    '-:- no profiles: add at least one [profiles.NAME] table',
  ]);
  assert.deepEqual(problems('[profiles."a b"]\nrepository = "/r"\npaths = ["/x"]\n'), ['1:11 profiles."a b": invalid profile name: use letters, digits, ".", "_" and "-"']);
  assert.deepEqual(problems('profiles = 3\n'), ['1:12 profiles: expected a table of profiles ([profiles.NAME]), got an integer']);
});

test('a bad value is reported once, not again as a missing key', () => {
  assert.deepEqual(problems('[profiles.a]\nrepository = "/r"\npaths = "rel"\n'), ['3:9 "rel" is not an absolute path (write it from / or ~/)']);
});

test('files: candidates, loading, read errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pybackup-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(configCandidates({ XDG_CONFIG_HOME: '/x/conf', HOME: '/h' }), ['/x/conf/pybackup/config.toml', '/etc/pybackup/config.toml']);
  assert.deepEqual(configCandidates({ HOME: '/h' }), ['/h/.config/pybackup/config.toml', '/etc/pybackup/config.toml']);
  assert.deepEqual(configCandidates({ PYBACKUP_CONFIG: '/c.toml', HOME: '/h' }), ['/c.toml']);
  writeFileSync(join(dir, 'pybackup-config'), '');
  assert.throws(() => findConfigFile(undefined, { XDG_CONFIG_HOME: join(dir, 'none'), HOME: dir }), /no configuration file: looked for .*--config FILE/);
  const file = join(dir, 'c.toml');
  writeFileSync(file, GOOD);
  assert.equal(loadConfig(file).profiles.size, 2);
  writeFileSync(file, '[profiles.a]\nrepository = 1\npaths = ["/x"]\n');
  assert.throws(() => loadConfig(file), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${file}:2:14: profiles.a.repository: expected a string`));
  assert.throws(() => loadConfig(join(dir, 'missing.toml')), /cannot read configuration file .*: no such file/);
  writeFileSync(file, Buffer.from([0x5b, 0xff, 0x5d]));
  assert.throws(() => loadConfig(file), /not valid UTF-8/);
});

test('closest: typos, underscores, plurals; nothing for unrelated words', () => {
  const keys = ['exclude', 'exclude-caches', 'exclude-file', 'paths', 'keep-daily', 'on-failure'];
  assert.equal(closest('Exclude_Caches', keys), 'exclude-caches');
  assert.equal(closest('path', keys), 'paths');
  assert.equal(closest('exlcude', keys), 'exclude');
  assert.equal(closest('keep-dialy', keys), 'keep-daily');
  assert.equal(closest('onfailure', keys), 'on-failure');
  assert.equal(closest('banana', keys), undefined);
});
