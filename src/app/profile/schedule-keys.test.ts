import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, profileByName } from './load.ts';

const BASE = `[defaults]
repository = "/srv/repo"
password-env = "PW"
schedule = "daily 02:00"
`;

function problems(text: string): string[] {
  const r = parseConfig(text, 'c.toml');
  assert.equal(r.config, undefined, 'expected problems');
  return r.problems.map((p) => `${p.line ?? '-'}:${p.column ?? '-'} ${p.message}`);
}

test('smart-scheduling and watch keys are read into the profile', () => {
  const r = parseConfig(
    `${BASE}defer-on-battery = true
max-delay = "3h"
[profiles.home]
paths = ["/home"]
defer-if-load-above = 0.8
watch = { quiet-period = "45s", rescan-every = "5m" }
[profiles.plain]
paths = ["/etc"]
defer-on-battery = false
[profiles.loadonly]
paths = ["/srv"]
max-delay = "1h"
defer-if-load-above = 2
`,
    'c.toml',
  );
  assert.deepEqual(r.problems, []);
  assert.ok(r.config);
  const home = profileByName(r.config, 'home');
  assert.deepEqual(home.defer, { loadAbove: 0.8, onBattery: true, maxDelayMs: 3 * 3_600_000 });
  assert.deepEqual(home.watch, { quietMs: 45_000, rescanMs: 300_000 });
  const plain = profileByName(r.config, 'plain');
  assert.deepEqual(plain.defer, { onBattery: false, maxDelayMs: 3 * 3_600_000 });
  assert.equal(plain.watch, undefined);
  assert.deepEqual(profileByName(r.config, 'loadonly').defer, { loadAbove: 2, onBattery: true, maxDelayMs: 3_600_000 });
});

test('bad smart-scheduling and watch values are refused with their line', () => {
  const got = problems(`${BASE}[profiles.a]
paths = ["/a"]
defer-if-load-above = -1
defer-on-battery = "yes"
max-delay = "soon"
[profiles.a.watch]
quiet-period = "0s"
rescan-every = "10"
quiet = "1s"
`);
  assert.deepEqual(got, [
    '7:23 profiles.a.defer-if-load-above: must be from 0.01 to 1000 (1-minute load average per core), got -1',
    '8:20 profiles.a.defer-on-battery: expected a boolean (true or false), got a string',
    '9:13 invalid interval "soon": expected numbers with units m, h, d or w (e.g. 6h, 1h30m, 7d)',
    '11:16 invalid quiet period "0s": must be at least 100ms',
    '12:16 invalid rescan interval "10": no unit after 10 (e.g. 10s)',
    '13:1 profiles.a.watch.quiet: unknown key',
  ]);
  assert.deepEqual(problems(`${BASE}[profiles.a]\npaths = ["/a"]\ndefer-if-load-above = "high"\n`), [
    '7:23 profiles.a.defer-if-load-above: expected a number, got a string',
  ]);
  assert.deepEqual(problems(`${BASE}[profiles.a]\npaths = ["/a"]\nquiet-period = "30s"\n`), [
    '7:1 profiles.a.quiet-period: unknown key; did you mean "watch.quiet-period" (in the profile\'s [watch] table)?',
  ]);
});
