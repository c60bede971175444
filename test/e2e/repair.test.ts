/**
 * `repair index | packs | snapshots` end to end: after each repair `check` passes and every undamaged file restores
 * byte for byte; --dry-run changes nothing; bad arguments are clean errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, flipByte, jsonLines, listFiles, writeRandomFile } from './helpers.ts';

interface IndexDump {
  packs: { id: string; blobs: { id: string; offset: number; length: number }[] }[];
}

/** Pack, offset and length of a blob, through `cat index` over every index file. */
async function locate(sb: Sandbox, blob: string): Promise<{ pack: string; offset: number; length: number; blobs: number }> {
  for (const name of readdirSync(join(sb.repo, 'index'))) {
    const r = await sb.cli(['cat', 'index', name]);
    assertExit(r, 0, 'cat index');
    for (const p of (JSON.parse(r.stdout) as IndexDump).packs) {
      const b = p.blobs.find((x) => x.id === blob);
      if (b) return { pack: p.id, offset: b.offset, length: b.length, blobs: p.blobs.length };
    }
  }
  throw new Error(`blob ${blob} not in any index`);
}

async function contentOf(sb: Sandbox, ref: string, name: string): Promise<string> {
  const r = await sb.cli(['cat', 'tree', ref]);
  assertExit(r, 0, `cat tree ${ref}`);
  const blob = (JSON.parse(r.stdout) as { nodes: { name: string; content?: string[] }[] }).nodes.find((n) => n.name === name)?.content?.[0];
  assert.ok(blob, `${name} has content`);
  return blob;
}

const packFile = (sb: Sandbox, pack: string): string => join(sb.repo, 'data', pack.slice(0, 2), pack);

async function ok(sb: Sandbox, args: readonly string[], code = 0): Promise<CliResult> {
  const r = await sb.cli(args);
  assertExit(r, code, args.join(' '));
  assertNoStackTrace(r, args.join(' '));
  return r;
}

/** Two random files of a few hundred KB and a small one in a subdirectory, backed up once. */
async function smallRepo(t: Parameters<typeof Sandbox.create>[0]): Promise<Sandbox> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'sub'), { recursive: true });
  writeRandomFile(join(sb.src, 'victim.bin'), 300_000);
  writeRandomFile(join(sb.src, 'survivor.bin'), 200_000);
  writeFileSync(join(sb.src, 'sub', 'small.txt'), 'small and unharmed');
  await sb.backup([sb.src]);
  return sb;
}

async function snapshotList(sb: Sandbox): Promise<{ id: string; tags?: string[]; original?: string; repaired?: { removed: string[] } }[]> {
  return JSON.parse((await ok(sb, ['--json', 'snapshots'])).stdout) as { id: string; tags?: string[]; original?: string; repaired?: { removed: string[] } }[];
}

test('repair index: every index file deleted -> check fails -> repair index -> check passes, restore is identical', async (t) => {
  const sb = await smallRepo(t);
  for (const n of readdirSync(join(sb.repo, 'index'))) rmSync(join(sb.repo, 'index', n));
  await ok(sb, ['check'], 1);
  const r = await ok(sb, ['repair', 'index']);
  assert.match(r.stdout, /plan: replace 0 index files with a new index of \d+ packs/);
  assert.match(r.stdout, /index rebuilt: 1 index file written/);
  await ok(sb, ['check', '--read-data']);
  const again = await ok(sb, ['--json', 'repair', 'index']);
  assert.equal(jsonLines(again.stdout).find((l) => l.message_type === 'summary')?.changed, false, 'nothing left to do');
  const target = sb.path('target');
  await ok(sb, ['restore', 'latest', '--target', target]);
  assertSameTree(sb.src, join(target, sb.src));
});

test('a lost pack: after repair index the next backup stores its data again (no files-cache hit on it) and the repository is whole', async (t) => {
  const sb = await smallRepo(t);
  const unchanged = await sb.backup([sb.src]);
  assert.equal(unchanged.files_unmodified, 3, 'the files cache is trusted after a completed backup');
  const loc = await locate(sb, await contentOf(sb, `latest:${sb.src}`, 'victim.bin'));
  rmSync(packFile(sb, loc.pack));
  await ok(sb, ['repair', 'index']);
  const healed = await sb.backup([sb.src]);
  assert.ok(healed.files_unmodified < 3, `files whose data was lost are read again (${healed.files_unmodified} unmodified)`);
  assert.ok(healed.data_added >= 300_000, `the lost data is stored again (${healed.data_added} bytes added)`);
  await ok(sb, ['check', '--read-data']);
  const target = sb.path('target');
  await ok(sb, ['restore', 'latest', '--target', target]);
  assertSameTree(sb.src, join(target, sb.src));
});

test('repair packs + snapshots: a damaged data blob; the rest is salvaged and every undamaged file restores', async (t) => {
  const sb = await smallRepo(t);
  const [original] = await snapshotList(sb);
  const blob = await contentOf(sb, `latest:${sb.src}`, 'victim.bin');
  const loc = await locate(sb, blob);
  flipByte(packFile(sb, loc.pack), loc.offset + Math.floor(loc.length / 2));
  await ok(sb, ['check', '--read-data'], 1);

  const rp = await ok(sb, ['--json', 'repair', 'packs', loc.pack.slice(0, 12)]);
  const lines = jsonLines(rp.stdout);
  const plan = lines.find((l) => l.message_type === 'plan') as { packs: { pack: string; salvage: number; lost: number; lost_blobs: { id: string }[] }[] };
  assert.equal(plan.packs[0]?.pack, loc.pack);
  assert.equal(plan.packs[0]?.lost, 1, describe(rp));
  assert.equal(plan.packs[0]?.salvage, loc.blobs - 1);
  assert.deepEqual(plan.packs[0]?.lost_blobs.map((b) => b.id), [blob]);
  assert.deepEqual(lines.find((l) => l.message_type === 'pack_repaired'), { message_type: 'pack_repaired', pack: loc.pack, salvaged: loc.blobs - 1, lost: 1 });
  assert.ok(!existsSync(packFile(sb, loc.pack)), 'the damaged pack is removed');
  assert.match(String(lines.find((l) => l.message_type === 'summary')?.hint), /run "pybackup repair snapshots"/);

  const rs = await ok(sb, ['repair', 'snapshots']);
  assert.ok(rs.stdout.includes(`${sb.src}/victim.bin`), describe(rs));
  const snaps = await snapshotList(sb);
  assert.equal(snaps.length, 2, 'the original is kept');
  const fixed = snaps.find((s) => s.id !== original!.id)!;
  assert.equal(fixed.original, original!.id);
  assert.ok(fixed.tags?.includes('repaired'));
  assert.deepEqual(fixed.repaired?.removed, [`${sb.src}/victim.bin`]);

  const target = sb.path('target');
  await ok(sb, ['restore', fixed.id, '--target', target]);
  const expected = listFiles(sb.src);
  expected.delete('victim.bin');
  assert.deepEqual(listFiles(join(target, sb.src)), expected, 'every undamaged file, byte for byte; the damaged one absent');
  assert.ok(!existsSync(join(target, sb.src, 'victim.bin')));

  await ok(sb, ['check', '--read-data'], 1); // the damaged original still references the lost blob
  const forget = await ok(sb, ['repair', 'snapshots', '--forget']);
  assert.match(forget.stdout, /already repaired/);
  assert.deepEqual((await snapshotList(sb)).map((s) => s.id), [fixed.id]);
  await ok(sb, ['check', '--read-data']);
});

test('repair packs: a truncated pack (header lost) is salvaged through its index entries', async (t) => {
  const sb = await smallRepo(t);
  const blob = await contentOf(sb, `latest:${sb.src}`, 'survivor.bin');
  const loc = await locate(sb, blob);
  const file = packFile(sb, loc.pack);
  truncateSync(file, statSync(file).size - 25);
  await ok(sb, ['check'], 1);
  await ok(sb, ['repair', 'index'], 1); // the header is unreadable: it points at repair packs
  const rp = await ok(sb, ['--json', 'repair', 'packs', loc.pack]);
  const summary = jsonLines(rp.stdout).find((l) => l.message_type === 'summary');
  assert.equal(summary?.salvaged, loc.blobs, describe(rp));
  assert.equal(summary?.lost, 0);
  await ok(sb, ['check', '--read-data']);
  const target = sb.path('target');
  await ok(sb, ['restore', 'latest', '--target', target]);
  assertSameTree(sb.src, join(target, sb.src));
});

test('repair --dry-run: the plan is shown and the repository is unchanged, for each mode', async (t) => {
  const sb = await smallRepo(t);
  const blob = await contentOf(sb, `latest:${sb.src}`, 'victim.bin');
  const loc = await locate(sb, blob);
  flipByte(packFile(sb, loc.pack), loc.offset + 10);

  let before = listFiles(sb.repo);
  const dp = await ok(sb, ['--json', 'repair', 'packs', '--dry-run']);
  const plan = jsonLines(dp.stdout).find((l) => l.message_type === 'plan') as { packs: { pack: string; lost: number }[]; dry_run: boolean };
  assert.equal(plan.dry_run, true);
  assert.deepEqual(plan.packs.map((p) => [p.pack, p.lost]), [[loc.pack, 1]]);
  assert.deepEqual(listFiles(sb.repo), before);

  await ok(sb, ['repair', 'packs']);
  before = listFiles(sb.repo);
  const ds = await ok(sb, ['repair', 'snapshots', '--dry-run', '--forget']);
  assert.match(ds.stdout, /would remove 1 path/);
  assert.match(ds.stdout, /dry run: nothing was changed/);
  assert.deepEqual(listFiles(sb.repo), before);

  const [index] = readdirSync(join(sb.repo, 'index'));
  rmSync(join(sb.repo, 'index', index!));
  before = listFiles(sb.repo);
  const di = await ok(sb, ['--json', 'repair', 'index', '--dry-run', '--read-all-packs']);
  assert.equal(jsonLines(di.stdout).find((l) => l.message_type === 'plan')?.changed, true);
  assert.deepEqual(listFiles(sb.repo), before);
});

test('repair: garbage arguments are clean errors without a stack trace', async (t) => {
  const sb = await smallRepo(t);
  const cases: [string[], RegExp][] = [
    [['repair', 'packs', 'zz!'], /invalid ID/],
    [['repair', 'packs', '0'.repeat(64)], /no pack matches/],
    [['repair', 'snapshots', 'deadbeef'], /no snapshot matches/],
    [['repair', 'snapshots', 'not-an-id'], /invalid ID/],
    [['repair', 'bogus'], /unknown command|error/i],
    [['repair', 'index', '--bogus-flag'], /unknown option/],
  ];
  for (const [args, message] of cases) {
    const r = await ok(sb, args, 1);
    assert.match(r.stderr, message, describe(r));
  }
  const j = await sb.cli(['--json', 'repair', 'packs', '0'.repeat(64)]);
  assertExit(j, 1, 'json');
  assert.equal(jsonLines(j.stdout).find((l) => l.message_type === 'exit_error')?.code, 1);
});
