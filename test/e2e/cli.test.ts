/**
 * 10. CLI behaviour: snapshot listing and IDs, backup metadata flags, --dry-run, unchanged re-backups, --force,
 * --parent, stats, cat.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { saveSnapshot } from '../../src/repository/snapshots.ts';
import { Sandbox, assertExit, assertNoStackTrace, describe, listFiles, writeRandomFile } from './helpers.ts';

interface SnapJson {
  id: string;
  short_id: string;
  time: string;
  tree: string;
  paths: string[];
  hostname: string;
  username: string;
  tags?: string[];
  parent?: string;
}

async function snapshots(sb: Sandbox, ...args: string[]): Promise<SnapJson[]> {
  const r = await sb.cli(['--json', 'snapshots', ...args]);
  assertExit(r, 0, 'snapshots --json');
  return JSON.parse(r.stdout) as SnapJson[];
}

function makeSource(sb: Sandbox): void {
  mkdirSync(join(sb.src, 'dir'), { recursive: true });
  writeFileSync(join(sb.src, 'a.txt'), 'alpha');
  writeFileSync(join(sb.src, 'dir', 'b.txt'), 'beta');
  writeRandomFile(join(sb.src, 'dir', 'rand.bin'), 300_000);
}

test('snapshots --json, tags/host/time, latest, ID prefixes, cat', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  const first = await sb.backup([sb.src, '--tag', 'a,b', '--tag', 'c', '--host', 'h', '--time', '2020-01-02 03:04:05']);
  writeFileSync(join(sb.src, 'a.txt'), 'alpha, changed');
  const second = await sb.backup([sb.src, '--tag', 'later']);
  assert.ok(first.snapshot_id && second.snapshot_id);

  const list = await snapshots(sb);
  assert.equal(list.length, 2);
  const s1 = list.find((s) => s.id === first.snapshot_id);
  assert.ok(s1, 'first snapshot listed');
  assert.equal(s1.short_id, first.snapshot_id.slice(0, 8));
  assert.deepEqual(s1.paths, [sb.src]);
  assert.equal(s1.hostname, 'h');
  assert.deepEqual(s1.tags, ['a', 'b', 'c']);
  assert.equal(new Date(s1.time).getTime(), Date.UTC(2020, 0, 2, 3, 4, 5), `time recorded (TZ=UTC): ${s1.time}`);
  assert.equal(list[0]?.id, first.snapshot_id, 'oldest first');
  // filters
  assert.equal((await snapshots(sb, '--tag', 'a,c')).length, 1);
  assert.equal((await snapshots(sb, '--tag', 'nope')).length, 0);
  assert.equal((await snapshots(sb, '--host', 'h')).length, 1);
  assert.equal((await snapshots(sb, '--latest', '1'))[0]?.id, second.snapshot_id);
  assert.equal((await snapshots(sb, '--path', sb.src)).length, 2);
  // plain listing
  const plain = await sb.cli(['snapshots']);
  assertExit(plain, 0);
  assert.match(plain.stdout, new RegExp(first.snapshot_id.slice(0, 8)));
  assert.match(plain.stdout, /2 snapshots/);

  // latest and prefixes, for restore and cat
  const restoreA = async (ref: string, dir: string): Promise<string> => {
    const r = await sb.cli(['restore', ref, '--target', sb.path(dir)]);
    assertExit(r, 0, `restore ${ref}`);
    return readFileSync(join(sb.path(dir), sb.src, 'a.txt'), 'utf8');
  };
  assert.equal(await restoreA('latest', 'r-latest'), 'alpha, changed');
  assert.equal(await restoreA(first.snapshot_id.slice(0, 8), 'r-prefix'), 'alpha');
  assert.equal(await restoreA(first.snapshot_id.toUpperCase().slice(0, 12), 'r-upper'), 'alpha');
  assert.equal(await restoreA(first.snapshot_id, 'r-full'), 'alpha');
  const latestH = await sb.cli(['restore', 'latest', '--host', 'h', '--target', sb.path('r-host')]);
  assertExit(latestH, 0);
  assert.equal(readFileSync(join(sb.path('r-host'), sb.src, 'a.txt'), 'utf8'), 'alpha', 'latest --host h picks the first');

  const catS = await sb.cli(['cat', 'snapshot', first.snapshot_id.slice(0, 8)]);
  assertExit(catS, 0, 'cat snapshot prefix');
  const body = JSON.parse(catS.stdout) as SnapJson;
  assert.equal(body.hostname, 'h');
  assert.deepEqual(body.paths, [sb.src]);
  const catL = await sb.cli(['cat', 'snapshot', 'latest']);
  assertExit(catL, 0, 'cat snapshot latest');
  assert.deepEqual((JSON.parse(catL.stdout) as SnapJson).tags, ['later']);

  const cfg = await sb.cli(['cat', 'config']);
  assertExit(cfg, 0, 'cat config');
  const config = JSON.parse(cfg.stdout) as { version: number; id: string; chunker: { avg: number } };
  assert.equal(config.version, 1);
  assert.match(config.id, /^[0-9a-f]{64}$/);
  assert.equal(config.chunker.avg, 1 << 20);

  const tree = await sb.cli(['cat', 'tree', `latest:${sb.src}/dir`]);
  assertExit(tree, 0, 'cat tree latest:/path');
  const nodes = (JSON.parse(tree.stdout) as { nodes: { name: string; type: string; size?: number }[] }).nodes;
  assert.deepEqual(nodes.map((n) => [n.name, n.type, n.size]), [['b.txt', 'file', 4], ['rand.bin', 'file', 300_000]]);
  const missing = await sb.cli(['cat', 'tree', `latest:${sb.src}/nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
  assertNoStackTrace(missing);
  const notDir = await sb.cli(['cat', 'tree', `latest:${sb.src}/a.txt`]);
  assert.equal(notDir.code, 1);
  assertNoStackTrace(notDir);
});

test('relative backup paths are recorded as absolute paths', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  const s = await sb.backup(['src/dir', './src/a.txt'], { cwd: sb.dir });
  const cat = await sb.cli(['cat', 'snapshot', s.snapshot_id ?? 'latest']);
  assert.deepEqual((JSON.parse(cat.stdout) as SnapJson).paths, [join(sb.src, 'a.txt'), join(sb.src, 'dir')]);
  // a relative --target is relative to the working directory
  assertExit(await sb.cli(['restore', 'latest', '--target', 'rel-target'], { cwd: sb.dir }), 0);
  assert.equal(readFileSync(join(sb.dir, 'rel-target', sb.src, 'a.txt'), 'utf8'), 'alpha');
});

test('unknown and ambiguous snapshot IDs give clear errors', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  const s = await sb.backup([sb.src]);
  assert.ok(s.snapshot_id);
  // more snapshots (cheaply, through the API) until two share a first hex digit: at most 17 by pigeonhole
  const repo = await sb.open();
  const ids = [s.snapshot_id];
  let shared: string | undefined;
  try {
    const base = JSON.parse((await sb.cli(['cat', 'snapshot', 'latest'])).stdout) as Snapshot;
    for (let i = 0; !shared && i < 17; i++) {
      const id = await saveSnapshot(repo, { ...base, time: new Date(Date.UTC(2021, 0, 1, 0, 0, i)).toISOString(), tags: [`n${i}`] });
      shared = ids.find((x) => x[0] === id[0])?.[0];
      ids.push(id);
    }
  } finally {
    await repo.close();
  }
  assert.ok(shared, 'two snapshots share a prefix');
  for (const args of [['restore', shared, '--target', sb.path('t')], ['cat', 'snapshot', shared]]) {
    const r = await sb.cli(args);
    assertExit(r, 1, `${args[0]} with an ambiguous prefix`);
    assertNoStackTrace(r);
    assert.match(r.stderr, /ambiguous/i, describe(r));
  }
  const unused = '0123456789abcdef'.split('').find((c) => !ids.some((x) => x.startsWith(c)));
  const unknown = unused ? `${unused}0` : `${s.snapshot_id.slice(0, 7)}${s.snapshot_id[7] === '0' ? '1' : '0'}0`;
  for (const args of [['restore', unknown, '--target', sb.path('t')], ['cat', 'snapshot', unknown], ['stats', unknown]]) {
    const r = await sb.cli(args);
    assert.ok(r.code === 1 || r.code === 10, describe(r));
    assertNoStackTrace(r);
    assert.match(r.stderr, /no snapshot|not found/i, describe(r));
  }
});

test('--dry-run writes nothing to the repository', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  await sb.backup([sb.src]);
  writeRandomFile(join(sb.src, 'new.bin'), 2 << 20);
  const before = listFiles(sb.repo);
  const s = await sb.backup([sb.src, '--dry-run']);
  assert.equal(s.dry_run, true);
  assert.equal(s.snapshot_id, undefined);
  assert.equal(s.files_new, 1);
  assert.ok(s.data_added >= 2 << 20, 'would add the new file');
  assert.deepEqual(listFiles(sb.repo), before, 'repository files unchanged');
  const plain = await sb.cli(['backup', '-n', sb.src]);
  assertExit(plain, 0);
  assert.match(plain.stdout, /Would add/);
  assert.deepEqual(listFiles(sb.repo), before, 'repository files unchanged (plain output)');
  assert.equal((await snapshots(sb)).length, 1);
  // and a real backup afterwards still stores the new data (the dry run did not poison the files cache)
  const real = await sb.backup([sb.src]);
  assert.ok(real.data_blobs >= 1, `data stored after the dry run (data_blobs ${real.data_blobs})`);
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target, '--verify']), 0);
  assert.ok(readFileSync(join(target, sb.src, 'new.bin')).equals(readFileSync(join(sb.src, 'new.bin'))));
});

test('unchanged re-backup, --force, --parent', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  const first = await sb.backup([sb.src]);
  assert.equal(first.files_new, 3);
  const again = await sb.backup([sb.src]);
  assert.equal(again.files_new, 0);
  assert.equal(again.files_changed, 0);
  assert.equal(again.files_unmodified, 3, 'every file unmodified');
  assert.equal(again.data_blobs, 0, 'no data blobs');
  assert.ok(again.data_added < 16 << 10, `at most a few (tree) bytes added: ${again.data_added}`);

  const forced = await sb.backup([sb.src, '--force']);
  assert.equal(forced.files_unmodified, 0, '--force re-reads every file');
  assert.equal(forced.total_files_processed, 3);
  assert.equal(forced.total_bytes_processed, 5 + 4 + 300_000);
  assert.equal(forced.data_blobs, 0, 're-read data dedups');

  const withParent = await sb.backup([sb.src, '--parent', first.snapshot_id?.slice(0, 8) ?? 'x']);
  assert.equal(withParent.files_unmodified, 3);
  const cat = await sb.cli(['cat', 'snapshot', withParent.snapshot_id ?? 'x']);
  assert.equal((JSON.parse(cat.stdout) as SnapJson).parent, first.snapshot_id, '--parent recorded');
  const auto = await sb.cli(['cat', 'snapshot', again.snapshot_id ?? 'x']);
  assert.equal((JSON.parse(auto.stdout) as SnapJson).parent, first.snapshot_id, 'the default parent is the previous snapshot');
  const badParent = await sb.cli(['backup', sb.src, '--parent', 'abcdef0123']);
  assert.notEqual(badParent.code, 0);
  assertNoStackTrace(badParent);
});

test('stats and stats --json: restore size and dedup ratio', async (t) => {
  const sb = await Sandbox.create(t);
  makeSource(sb);
  const size = 5 + 4 + 300_000;
  await sb.backup([sb.src]);
  await sb.backup([sb.src, '--force']);
  const j = await sb.cli(['--json', 'stats']);
  assertExit(j, 0, 'stats --json');
  const st = JSON.parse(j.stdout) as Record<string, number>;
  assert.equal(st.snapshots_count, 2);
  assert.equal(st.total_size, 2 * size, 'restore size of both snapshots');
  assert.equal(st.total_file_count, 6);
  assert.ok(Math.abs((st.dedup_ratio ?? 0) - 2) < 0.01, `dedup ratio 2: ${st.dedup_ratio}`);
  assert.ok((st.total_blob_count ?? 0) >= 4);
  const one = JSON.parse((await sb.cli(['--json', 'stats', 'latest'])).stdout) as Record<string, number>;
  assert.equal(one.snapshots_count, 1);
  assert.equal(one.total_size, size);
  const plain = await sb.cli(['stats']);
  assertExit(plain, 0, 'stats');
  assert.match(plain.stdout, /Restore size:.*in 6 files/);
  assert.match(plain.stdout, /Deduplication ratio:\s+2\.00x/);
  for (const mode of ['restore-size', 'raw-data']) assertExit(await sb.cli(['stats', '--mode', mode]), 0, `stats --mode ${mode}`);
});
