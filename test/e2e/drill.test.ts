/**
 * `pybackup drill`: restores a random sample of files into a temporary directory and checks them against the
 * snapshot; exits 1 when any sampled file cannot be restored or differs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { locate } from './repo-inspect.ts';
import { Sandbox, assertExit, assertNoStackTrace, describe, flipByte, jsonLines, listFiles, writeRandomFile } from './helpers.ts';

interface DrillSummary {
  snapshots: number;
  files_seen: number;
  files_sampled: number;
  passed: number;
  failed: number;
  error_count: number;
  seed: string;
  target: string;
  kept: boolean;
}

async function drill(sb: Sandbox, args: readonly string[], expect = 0): Promise<{ summary: DrillSummary; lines: Record<string, unknown>[] }> {
  const r = await sb.cli(['--json', 'drill', ...args]);
  assertExit(r, expect, `drill ${args.join(' ')}`);
  assertNoStackTrace(r);
  const lines = jsonLines(r.stdout);
  const summary = lines.find((l) => l.message_type === 'summary') as DrillSummary | undefined;
  assert.ok(summary, describe(r));
  return { summary, lines };
}

async function fixture(t: Parameters<typeof Sandbox.create>[0]): Promise<Sandbox> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'sub', 'deeper'), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(sb.src, i % 3 === 0 ? 'sub' : '.', `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  writeRandomFile(join(sb.src, 'sub', 'deeper', 'big.bin'), 3 << 20);
  writeFileSync(join(sb.src, 'odd [name]*?.txt'), 'glob characters in the name');
  symlinkSync('f1.txt', join(sb.src, 'link'));
  await sb.backup([sb.src]);
  return sb;
}

test('a clean drill restores the sample, verifies it, and removes its directory', async (t) => {
  const sb = await fixture(t);
  const parent = sb.path('drills');
  const { summary } = await drill(sb, ['--sample', '10', '--target', parent]);
  assert.equal(summary.snapshots, 1);
  assert.equal(summary.files_seen, 33);
  assert.equal(summary.files_sampled, 10);
  assert.equal(summary.passed, 10);
  assert.equal(summary.failed, 0);
  assert.equal(summary.error_count, 0);
  assert.equal(existsSync(summary.target), false, 'the drill directory is removed');
  assert.deepEqual(readdirSync(parent), []);

  const all = await drill(sb, ['--sample', '100%']);
  assert.equal(all.summary.files_sampled, 33);
  assert.equal(all.summary.passed, 33);

  const text = await sb.cli(['drill', '--sample', '5']);
  assertExit(text, 0);
  assert.match(text.stdout, /sampled 5 of 33 files/);
  assert.match(text.stdout, /5 passed, all good/);
});

test('the same --seed drills the same files; --keep leaves them in place', async (t) => {
  const sb = await fixture(t);
  const kept = async (seed: string): Promise<string[]> => {
    const { summary } = await drill(sb, ['--sample', '5', '--seed', seed, '--keep', '--target', sb.path(`k-${seed}-${Math.random()}`)]);
    assert.equal(summary.kept, true);
    assert.equal(summary.seed, seed);
    return [...listFiles(summary.target).keys()].sort();
  };
  const a = await kept('abc');
  assert.equal(a.length, 5, a.join(', '));
  assert.deepEqual(await kept('abc'), a);
  assert.notDeepEqual(await kept('other'), a);
});

test('a flipped byte in a data blob: the drill names the file and exits 1', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeRandomFile(join(sb.src, 'victim.bin'), 3 << 20);
  writeRandomFile(join(sb.src, 'survivor.bin'), 2 << 20);
  writeFileSync(join(sb.src, 'small.txt'), 'small and unharmed');
  await sb.backup([sb.src]);
  const tree = await sb.cli(['cat', 'tree', `latest:${sb.src}`]);
  assertExit(tree, 0);
  const blob = (JSON.parse(tree.stdout) as { nodes: { name: string; content?: string[] }[] }).nodes.find((n) => n.name === 'victim.bin')?.content?.[0];
  assert.ok(blob);
  const loc = await locate(sb, blob);
  flipByte(join(sb.repo, 'data', loc.pack.slice(0, 2), loc.pack), loc.offset + Math.floor(loc.length / 2));

  const { summary, lines } = await drill(sb, ['--sample', '100%'], 1);
  assert.equal(summary.files_sampled, 3);
  assert.equal(summary.failed, 1);
  assert.equal(summary.passed, 2);
  const failures = lines.filter((l) => l.message_type === 'failure');
  assert.equal(failures.length, 1, JSON.stringify(failures));
  assert.equal(failures[0]?.path, join(sb.src, 'victim.bin'));
  assert.match(String(failures[0]?.snapshot), /^[0-9a-f]{64}$/);

  const text = await sb.cli(['drill', '--sample', '100%']);
  assertExit(text, 1);
  assertNoStackTrace(text);
  assert.match(text.stderr, /FAILED [0-9a-f]{8}:.*victim\.bin/);
  assert.doesNotMatch(text.stderr, /survivor/);

  // restore --verify on the same damage: the damaged file is an error, the others are verified
  const r = await sb.cli(['--json', 'restore', 'latest', '--target', sb.path('restored'), '--verify']);
  assertExit(r, 1, 'restore --verify');
  const s = jsonLines(r.stdout).find((l) => l.message_type === 'summary');
  assert.equal(s?.files_verified, 2, describe(r));
  assert.equal(s?.verify_failures, 0);
  assert.ok(jsonLines(r.stdout).some((l) => l.message_type === 'error' && String(l.item).endsWith('victim.bin')), describe(r));
});

test('snapshot selection: the latest of each path set, --snapshots K, filters', async (t) => {
  const sb = await Sandbox.create(t);
  const a = join(sb.src, 'a');
  const b = join(sb.src, 'b');
  mkdirSync(a, { recursive: true });
  mkdirSync(b);
  writeFileSync(join(a, 'x'), 'x');
  writeFileSync(join(b, 'y'), 'y');
  await sb.backup([a]);
  await sb.backup([a]);
  await sb.backup([b, '--tag', 'bee']);
  assert.equal((await drill(sb, [])).summary.snapshots, 2);
  assert.equal((await drill(sb, ['--snapshots', '3'])).summary.snapshots, 3);
  const one = await drill(sb, ['--snapshots', '1']);
  assert.equal(one.summary.snapshots, 1);
  assert.equal(one.summary.files_seen, 1);
  assert.equal((await drill(sb, ['--path', a])).summary.snapshots, 1);
  assert.equal((await drill(sb, ['--tag', 'bee'])).summary.files_seen, 1);
});

test('bad flags and nothing to drill give clean errors', async (t) => {
  const sb = await Sandbox.create(t);
  const empty = await sb.cli(['drill']);
  assertExit(empty, 1);
  assertNoStackTrace(empty);
  assert.match(empty.stderr, /nothing to drill: the repository has no snapshots/);

  mkdirSync(join(sb.src, 'empty'), { recursive: true });
  await sb.backup([sb.src]);
  const noFiles = await sb.cli(['drill']);
  assertExit(noFiles, 0);
  assert.match(noFiles.stdout, /nothing to drill: the selected snapshots hold no files/);

  for (const [args, msg] of [
    [['--sample', '0'], /invalid --sample "0"/],
    [['--sample', 'abc'], /invalid --sample "abc"/],
    [['--sample', '150%'], /invalid --sample "150%": a percentage must be above 0 and at most 100/],
    [['--snapshots', '0'], /invalid --snapshots "0"/],
    [['--snapshots', 'x'], /invalid --snapshots "x"/],
    [['--host', 'nowhere'], /nothing to drill: no snapshot matches/],
  ] as const) {
    const r = await sb.cli(['drill', ...args]);
    assertExit(r, 1, args.join(' '));
    assertNoStackTrace(r);
    assert.match(r.stderr, msg);
  }
});
