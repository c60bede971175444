/**
 * `forget`: restic's retention policy applied per group, --dry-run, --json, explicit IDs, the append-only refusal
 * and refused flag values. Snapshots with chosen times and hosts are cloned from one real backup through the
 * internal API (same tree), so the test needs a single backup run.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listSnapshots, saveSnapshot } from '../../src/repository/snapshots.ts';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, writeRandomFile } from './helpers.ts';

const UTC = { env: { TZ: 'UTC' } };

/** One real backup, then a clone per [host, time, tags]; returns ids by "host@time". */
async function setUp(sb: Sandbox, clones: readonly [string, string, string[]?][]): Promise<Map<string, string>> {
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'data');
  await sb.backup(['--host', 'base', sb.src], UTC);
  const repo = await sb.open();
  const ids = new Map<string, string>();
  try {
    const [base] = await listSnapshots(repo);
    assert.ok(base);
    const { id: _id, parent: _parent, ...content } = base;
    for (const [hostname, time, tags] of clones) {
      ids.set(`${hostname}@${time}`, await saveSnapshot(repo, { ...content, hostname, time, ...(tags ? { tags } : {}) }));
    }
  } finally {
    await repo.close();
  }
  return ids;
}

const snapshotFiles = (sb: Sandbox): string[] => readdirSync(join(sb.repo, 'snapshots')).sort();

interface JsonSnap {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
}
interface JsonGroup {
  host: string;
  paths: string[] | null;
  tags: string[] | null;
  keep: JsonSnap[];
  remove: JsonSnap[];
  reasons: { snapshot: JsonSnap; matches: string[]; counters: Record<string, number> }[];
}

const ALPHA = ['2024-01-01T10:00:00.000Z', '2024-01-01T12:00:00.000Z', '2024-01-02T09:00:00.000Z', '2024-01-08T09:00:00.000Z', '2024-02-01T09:00:00.000Z'];
const BETA = ['2024-01-01T10:00:00.000Z', '2024-01-05T10:00:00.000Z'];

test('forget applies the policy per group; --dry-run and --json show the plan without deleting', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  const ids = await setUp(sb, [...ALPHA.map((x): [string, string] => ['alpha', x]), ...BETA.map((x): [string, string] => ['beta', x])]);
  const id = (host: string, time: string): string => ids.get(`${host}@${time}`) as string;
  const before = snapshotFiles(sb);
  assert.equal(before.length, 8);

  const dry = await sb.cli(['forget', '--keep-daily', '2', '--keep-monthly', '2', '--dry-run'], UTC);
  assertExit(dry, 0, 'forget --dry-run');
  assert.match(dry.stdout, /Applying Policy: keep 2 daily, 2 monthly snapshots/);
  assert.match(dry.stdout, /snapshots for \(host \[alpha\], paths \[.*\]\):\nkeep 2 snapshots:/);
  assert.match(dry.stdout, /Reasons/);
  assert.match(dry.stdout, /remove 3 snapshots:/);
  assert.match(dry.stdout, /Would have removed the following snapshots:\n\{[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}\}/);
  assert.deepEqual(snapshotFiles(sb), before, '--dry-run deletes nothing');

  const js = await sb.cli(['--json', 'forget', '--keep-daily', '2', '--keep-monthly', '2', '--dry-run'], UTC);
  assertExit(js, 0, 'forget --json --dry-run');
  const groups = JSON.parse(js.stdout) as JsonGroup[];
  assert.deepEqual(
    groups.map((g) => g.host),
    ['alpha', 'base', 'beta'],
  );
  const [alpha, , beta] = groups as [JsonGroup, JsonGroup, JsonGroup];
  assert.deepEqual(alpha.paths, [sb.src]);
  assert.equal(alpha.tags, null);
  assert.deepEqual(
    alpha.keep.map((s) => s.id),
    [id('alpha', ALPHA[4] as string), id('alpha', ALPHA[3] as string)],
  );
  assert.deepEqual(
    alpha.remove.map((s) => s.id),
    [ALPHA[2], ALPHA[1], ALPHA[0]].map((x) => id('alpha', x as string)),
  );
  assert.equal(alpha.keep[0]?.short_id, alpha.keep[0]?.id.slice(0, 8));
  assert.deepEqual(
    alpha.reasons.map((r) => [r.snapshot.time, r.matches, r.counters]),
    [
      [ALPHA[4], ['daily snapshot', 'monthly snapshot'], { daily: 1, monthly: 1 }],
      [ALPHA[3], ['daily snapshot', 'monthly snapshot'], {}],
    ],
  );
  // beta has only two snapshots in one month: the older is kept as the oldest while the monthly count lasts
  assert.deepEqual(
    beta.reasons.map((r) => r.matches),
    [
      ['daily snapshot', 'monthly snapshot'],
      ['daily snapshot', 'oldest monthly snapshot'],
    ],
  );
  assert.deepEqual(beta.remove, []);
  assert.deepEqual(snapshotFiles(sb), before, '--json --dry-run deletes nothing');

  // periods are counted in local time ($TZ): in Auckland (UTC+13) 2024-01-01 12:00Z is already January 2nd, the
  // day of 2024-01-02 09:00Z, so a different snapshot is the one left over
  const daily4 = ['--json', 'forget', '--host', 'alpha', '--keep-daily', '4', '--dry-run'];
  const utc4 = await sb.cli(daily4, UTC);
  const nz4 = await sb.cli(daily4, { env: { TZ: 'Pacific/Auckland' } });
  assertExit(utc4, 0, 'forget in UTC');
  assertExit(nz4, 0, 'forget in Pacific/Auckland');
  assert.deepEqual((JSON.parse(utc4.stdout) as JsonGroup[])[0]?.remove.map((s) => s.time), [ALPHA[0]]);
  assert.deepEqual((JSON.parse(nz4.stdout) as JsonGroup[])[0]?.remove.map((s) => s.time), [ALPHA[1]]);

  const real = await sb.cli(['forget', '--keep-daily', '2', '--keep-monthly', '2'], UTC);
  assertExit(real, 0, 'forget');
  assert.match(real.stdout, /removed 3 snapshots/);
  const after = snapshotFiles(sb);
  assert.deepEqual(after, before.filter((f) => ![ALPHA[0], ALPHA[1], ALPHA[2]].some((x) => id('alpha', x as string) === f)));
  const again = await sb.cli(['--json', 'forget', '--keep-daily', '2', '--keep-monthly', '2'], UTC);
  assertExit(again, 0, 'forget again');
  assert.ok((JSON.parse(again.stdout) as JsonGroup[]).every((g) => g.remove.length === 0), 'a second run removes nothing');
  assert.deepEqual(snapshotFiles(sb), after);
});

test('forget with snapshot IDs removes exactly those; --unsafe-allow-remove-all empties a filtered group', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  const ids = await setUp(sb, [
    ['alpha', '2024-01-01T00:00:00.000Z'],
    ['alpha', '2024-01-02T00:00:00.000Z'],
    ['alpha', '2024-01-03T00:00:00.000Z', ['keep']],
    ['beta', '2024-01-04T00:00:00.000Z'],
    ['beta', '2024-01-05T00:00:00.000Z'],
  ]);
  const before = snapshotFiles(sb);
  const first = ids.get('alpha@2024-01-01T00:00:00.000Z') as string;
  const lastAlpha = ids.get('alpha@2024-01-03T00:00:00.000Z') as string;

  const bad = await sb.cli(['forget', first.slice(0, 10), 'ffffffffff']);
  assertExit(bad, 1, 'forget with an unknown ID');
  assertNoStackTrace(bad);
  assert.match(bad.stderr, /no snapshot matches ID "ffffffffff"/);
  assert.deepEqual(snapshotFiles(sb), before, 'an unknown ID stops the run before anything is deleted');

  const dry = await sb.cli(['forget', '--dry-run', first.slice(0, 10), 'latest', '--host', 'alpha']);
  assertExit(dry, 0, 'forget IDs --dry-run');
  assert.match(dry.stdout, new RegExp(`\\{${[first, lastAlpha].map((x) => x.slice(0, 8)).sort().join(' ')}\\}`));
  assert.deepEqual(snapshotFiles(sb), before);

  const r = await sb.cli(['forget', first.slice(0, 10), 'latest', '--host', 'alpha', '--keep-last', '100']);
  assertExit(r, 0, 'forget IDs');
  assert.deepEqual(snapshotFiles(sb), before.filter((f) => f !== first && f !== lastAlpha), 'exactly the two (policy flags are ignored with IDs)');

  const unsafe = await sb.cli(['forget', '--unsafe-allow-remove-all', '--host', 'beta']);
  assertExit(unsafe, 0, 'forget --unsafe-allow-remove-all --host beta');
  assert.deepEqual(
    snapshotFiles(sb),
    before.filter((f) => ![first, lastAlpha, ids.get('beta@2024-01-04T00:00:00.000Z'), ids.get('beta@2024-01-05T00:00:00.000Z')].includes(f)),
  );
});

test('forget refuses garbage and unsafe requests with a clear message and deletes nothing', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t);
  await setUp(sb, [
    ['alpha', '2024-01-01T00:00:00.000Z'],
    ['alpha', '2024-01-02T00:00:00.000Z'],
  ]);
  const before = snapshotFiles(sb);
  const cases: [string[], RegExp][] = [
    [[], /no policy was specified, no snapshots will be removed/],
    [['--keep-last', '0'], /no policy was specified/],
    [['--keep-daily', 'abc'], /--keep-daily: invalid value "abc"/],
    [['--keep-weekly', '-3'], /--keep-weekly: negative values are not allowed/],
    [['--keep-monthly', '1.5'], /--keep-monthly: invalid value/],
    [['--keep-within', '5x'], /--keep-within: invalid duration "5x": invalid unit "x"/],
    [['--keep-within-daily', '7'], /--keep-within-daily: .*no unit found/],
    [['--keep-within', '-1d'], /negative values are not allowed/],
    [['--keep-tag', 'no-such-tag'], /refusing to delete last snapshot of snapshot group "host alpha, path \[/],
    [['--group-by', 'host,color', '--keep-last', '1'], /unknown grouping option "color"/],
    [['--unsafe-allow-remove-all'], /--unsafe-allow-remove-all is not allowed unless a snapshot filter/],
    [['--keep-last', '1', '--prune', '--max-unused', 'lots'], /invalid --max-unused "lots"/],
    [['--no-lock', '--keep-last', '1'], /--no-lock is only applicable in combination with --dry-run/],
  ];
  for (const [args, re] of cases) {
    const r = await sb.cli(args[0] === '--no-lock' ? ['--no-lock', 'forget', ...args.slice(1)] : ['forget', ...args]);
    assertExit(r, 1, `forget ${args.join(' ')}`);
    assertNoStackTrace(r, `forget ${args.join(' ')}`);
    assert.match(r.stderr, re, describe(r));
    assert.deepEqual(snapshotFiles(sb), before, `forget ${args.join(' ')} deleted nothing`);
  }
  assertExit(await sb.cli(['--no-lock', 'forget', '--keep-last', '1', '--dry-run']), 0, '--no-lock with --dry-run');
});

test('forget in an append-only repository: the plan shows, deleting is refused before anything goes', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--append-only'] });
  await setUp(sb, [
    ['alpha', '2024-01-01T00:00:00.000Z'],
    ['alpha', '2024-01-02T00:00:00.000Z'],
    ['alpha', '2024-01-03T00:00:00.000Z'],
  ]);
  const before = snapshotFiles(sb);
  const dry = await sb.cli(['forget', '--keep-last', '1', '--dry-run']);
  assertExit(dry, 0, 'forget --dry-run in an append-only repository');
  assert.match(dry.stdout, /remove 2 snapshots:/);
  const r = await sb.cli(['forget', '--keep-last', '1']);
  assertExit(r, 1, 'forget in an append-only repository');
  assertNoStackTrace(r);
  assert.match(r.stderr, /append-only: forget of 2 snapshots \{[0-9a-f]{8} [0-9a-f]{8}\}/, describe(r));
  assert.deepEqual(snapshotFiles(sb), before, 'nothing was removed');
  // a policy that removes nothing has nothing to refuse
  assertExit(await sb.cli(['forget', '--keep-last', '10']), 0, 'forget that keeps everything');
});

test('forget --prune: the forgotten data is gone, the kept snapshot restores, check --read-data passes', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'old'), { recursive: true });
  writeRandomFile(join(sb.src, 'old', 'gone.bin'), 3 << 20);
  await sb.backup([sb.src]);
  rmSync(join(sb.src, 'old'), { recursive: true });
  writeFileSync(join(sb.src, 'kept.txt'), 'kept');
  await sb.backup([sb.src]);
  const size = (): number => readdirSync(join(sb.repo, 'data'), { recursive: true, withFileTypes: true }).reduce((n, e) => n + (e.isFile() ? statSync(join(e.parentPath, e.name)).size : 0), 0);
  const before = size();
  const dry = await sb.cli(['forget', '--keep-last', '1', '--prune', '--dry-run']);
  assertExit(dry, 0, 'forget --prune --dry-run');
  assert.equal(size(), before, 'a dry run frees nothing');
  const r = await sb.cli(['forget', '--keep-last', '1', '--prune']);
  assertExit(r, 0, 'forget --prune');
  assertNoStackTrace(r);
  assert.ok(size() < before - (2 << 20), `the 3 MiB of forgotten data is freed (${before} -> ${size()})`);
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check --read-data after forget --prune');
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target]), 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src), { skipRootTimes: true });
});
