/**
 * `check`: structure and --read-data on small repositories; damage is named (pack, blob, snapshot:path) with exit 1,
 * waste keeps exit 0, --json is NDJSON, bad flag values are usage errors.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { indexDump, locate, nodeOf, packPath } from './repo-inspect.ts';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, describe, writeRandomFile, flipByte } from './helpers.ts';

function packFile(sb: Sandbox, pack: string): string {
  return packPath(sb.repo, pack);
}

async function contentOf(sb: Sandbox, ref: string, name: string): Promise<string> {
  const blob = (await nodeOf(sb, ref, name)).content?.[0];
  assert.ok(blob, `${name} has content`);
  return blob;
}


/** Every stdout line is JSON; returns them. */
function ndjson(r: CliResult): Record<string, unknown>[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not an NDJSON line: ${JSON.stringify(l)}\n${describe(r)}`);
      }
    });
}

const all = (r: CliResult): string => `${r.stdout}\n${r.stderr}`;

/** Two files of a few hundred KB and a subdirectory, backed up once. */
async function smallRepo(t: Parameters<typeof Sandbox.create>[0]): Promise<Sandbox> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'sub'), { recursive: true });
  writeRandomFile(join(sb.src, 'victim.bin'), 300_000);
  writeRandomFile(join(sb.src, 'survivor.bin'), 200_000);
  writeFileSync(join(sb.src, 'sub', 'small.txt'), 'small and unharmed');
  await sb.backup([sb.src]);
  return sb;
}

test('check: a clean repository exits 0, text and --json, structure and --read-data', async (t) => {
  const sb = await smallRepo(t);
  const plain = await sb.cli(['check']);
  assertExit(plain, 0, 'check');
  assert.match(plain.stdout, /no errors were found/);
  const read = await sb.cli(['check', '--read-data']);
  assertExit(read, 0, 'check --read-data');
  assert.match(read.stdout, /read \d+ packs/);
  const j = await sb.cli(['--json', 'check', '--read-data']);
  assertExit(j, 0, 'check --json --read-data');
  const lines = ndjson(j);
  const summary = lines.find((l) => l.message_type === 'summary');
  assert.equal(summary?.num_errors, 0, describe(j));
  assert.equal(summary?.snapshots, 1);
  assert.ok((summary?.packs_read as number) >= 2 && summary?.packs_read === summary?.packs, describe(j));
  assert.ok(!lines.some((l) => l.message_type === 'error'), describe(j));
});

test('check: a flipped byte in a data blob passes the structure check and fails --read-data, naming pack and file', async (t) => {
  const sb = await smallRepo(t);
  const blob = await contentOf(sb, `latest:${sb.src}`, 'victim.bin');
  const loc = await locate(sb, blob);
  flipByte(packFile(sb, loc.pack), loc.offset + Math.floor(loc.length / 2));

  assertExit(await sb.cli(['check']), 0, 'structure check: the data blob is not read');
  const r = await sb.cli(['check', '--read-data']);
  assertExit(r, 1, 'check --read-data');
  assertNoStackTrace(r);
  assert.ok(all(r).includes(loc.pack), `names the pack: ${describe(r)}`);
  assert.ok(all(r).includes(blob), `names the blob: ${describe(r)}`);
  assert.ok(all(r).includes(`${sb.src}/victim.bin`), `names the file: ${describe(r)}`);
  assert.doesNotMatch(all(r), /survivor/);

  const j = await sb.cli(['--json', 'check', '--read-data']);
  assertExit(j, 1, 'check --json --read-data');
  const lines = ndjson(j);
  const damaged = lines.find((l) => l.code === 'blob-damaged');
  assert.equal(damaged?.message_type, 'error');
  assert.equal(damaged?.pack, loc.pack);
  assert.equal(damaged?.blob, blob);
  assert.deepEqual(((damaged?.affected ?? []) as { path: string }[]).map((a) => a.path), [`${sb.src}/victim.bin`]);
  const summary = lines.find((l) => l.message_type === 'summary');
  assert.deepEqual(summary?.broken_packs, [loc.pack]);

  // the parts 1/2 and 2/2 together read every pack once; only the part holding the pack fails
  const parts = [await sb.cli(['--json', 'check', '--read-data-subset', '1/2']), await sb.cli(['--json', 'check', '--read-data-subset', '2/2'])];
  const read = parts.map((p) => ndjson(p).find((l) => l.message_type === 'summary')?.packs_read as number);
  assert.equal(read[0]! + read[1]!, summary?.packs_read, parts.map(describe).join('\n'));
  assert.deepEqual(parts.map((p) => p.code).sort(), [0, 1]);
});

test('check: a deleted data pack is named with the files it affects', async (t) => {
  const sb = await smallRepo(t);
  const blob = await contentOf(sb, `latest:${sb.src}`, 'victim.bin');
  const loc = await locate(sb, blob);
  rmSync(packFile(sb, loc.pack));
  const r = await sb.cli(['check']);
  assertExit(r, 1, 'check');
  assertNoStackTrace(r);
  assert.match(r.stderr, new RegExp(`pack ${loc.pack} is missing`));
  assert.ok(r.stderr.includes(`${sb.src}/victim.bin`), describe(r));
});

test('check: a deleted index file is reported precisely: the blobs it indexed and the packs that hold them', async (t) => {
  const sb = await smallRepo(t);
  const before = new Set(readdirSync(join(sb.repo, 'index')));
  writeRandomFile(join(sb.src, 'late.bin'), 150_000);
  await sb.backup([sb.src]);
  const added = readdirSync(join(sb.repo, 'index')).filter((n) => !before.has(n));
  assert.equal(added.length, 1);
  const lost = (await indexDump(sb, added[0]!)).packs.map((p) => p.id);
  rmSync(join(sb.repo, 'index', added[0]!));

  const r = await sb.cli(['check']);
  assertExit(r, 1, 'check');
  assertNoStackTrace(r);
  assert.match(r.stderr, /is not in any index/);
  assert.match(r.stderr, /no index lists/);
  assert.ok(lost.some((p) => r.stderr.includes(p)), `names a pack of the lost index: ${describe(r)}`);
  const j = ndjson(await sb.cli(['--json', 'check']));
  const unindexed = j.filter((l) => l.code === 'pack-unindexed').map((l) => l.pack);
  assert.deepEqual(unindexed.sort(), [...lost].sort(), 'every pack of the lost index is reported as unindexed');
  assert.equal(j.find((l) => l.message_type === 'summary')?.suggest_repair_index, true);
});

test('check: a garbled snapshot file is reported by id, without a stack trace; bad flags are usage errors', async (t) => {
  const sb = await smallRepo(t);
  const [snap] = readdirSync(join(sb.repo, 'snapshots'));
  assert.ok(snap);
  writeFileSync(join(sb.repo, 'snapshots', snap), 'garbage, not a sealed snapshot');
  const r = await sb.cli(['check']);
  assertExit(r, 1, 'check');
  assertNoStackTrace(r);
  assert.ok(r.stderr.includes(`snapshot ${snap}`), describe(r));

  for (const bad of ['0/3', '4/3', 'x', '150%', '1/2/3']) {
    const u = await sb.cli(['check', '--read-data-subset', bad]);
    assertExit(u, 1, `--read-data-subset ${bad}`);
    assertNoStackTrace(u);
    assert.match(u.stderr, /invalid --read-data-subset/);
  }
});
