/**
 * Damage of every repository file type that the pack tests (check, integrity, repair) do not already cover: index,
 * snapshot, key, config and lock files, each flipped, truncated and deleted, plus a damaged tree blob. `check`
 * reports it precisely, what is unaffected still restores, and the documented repair brings `check` back to clean.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { type CliResult, Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, flipByte, writeRandomFile } from './helpers.ts';
import { locate, nodeOf, packPath } from './repo-inspect.ts';

type Damage = 'flip' | 'truncate' | 'delete';
const DAMAGES: readonly Damage[] = ['flip', 'truncate', 'delete'];
const SECOND = 'the second password';

function damage(file: string, how: Damage): void {
  const size = statSync(file).size;
  if (how === 'flip') flipByte(file, Math.floor(size / 2));
  else if (how === 'truncate') truncateSync(file, Math.floor(size / 2));
  else rmSync(file);
}

function names(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
}

interface Base {
  sb: Sandbox;
  first: string;
  second: string;
  keys: string[];
}

/** One repository for every case: two snapshots, two keys; each case damages its own copy. */
async function base(t: TestContext): Promise<Base> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'one'), { recursive: true });
  mkdirSync(join(sb.src, 'two'), { recursive: true });
  writeRandomFile(join(sb.src, 'one', 'a.bin'), 200_000);
  writeFileSync(join(sb.src, 'one', 'note.txt'), 'first');
  const first = (await sb.backup([sb.src])).snapshot_id;
  writeRandomFile(join(sb.src, 'two', 'b.bin'), 150_000);
  const second = (await sb.backup([sb.src])).snapshot_id;
  assert.ok(first && second);
  writeFileSync(sb.path('pw2'), SECOND);
  assertExit(await sb.cli(['key', 'add', '--new-password-file', sb.path('pw2'), '--kdf-memory', '8192']), 0, 'key add');
  return { sb, first, second, keys: names(join(sb.repo, 'keys')) };
}

let cases = 0;
/** A fresh copy of the base repository with its own catalog; returns a runner bound to it. */
function copy(b: Base): { repo: string; run: (args: readonly string[], env?: Record<string, string>) => Promise<CliResult> } {
  const n = ++cases;
  const repo = b.sb.path(`case-${n}`);
  cpSync(b.sb.repo, repo, { recursive: true });
  const cache = b.sb.path(`cache-${n}`);
  return {
    repo,
    run: async (args, env = {}) => {
      const r = await b.sb.cli(args, { repo, env: { PYBACKUP_CACHE_DIR: cache, ...env }, timeoutMs: 60_000 });
      assertNoStackTrace(r, args.join(' '));
      return r;
    },
  };
}

async function restoresIdentically(b: Base, run: (args: readonly string[]) => Promise<CliResult>, snap: string): Promise<void> {
  const target = b.sb.path(`restore-${++cases}`);
  assertExit(await run(['restore', snap, '--target', target]), 0, `restore ${snap}`);
  assertSameTree(b.sb.src, join(target, b.sb.src), { skipRootTimes: true });
}

test('damaged index files: check names them, repair index restores a clean repository', { timeout: 180_000 }, async (t) => {
  const b = await base(t);
  for (const how of DAMAGES) {
    const { repo, run } = copy(b);
    const victim = names(join(repo, 'index'))[0]!;
    damage(join(repo, 'index', victim), how);
    const check = await run(['check']);
    assertExit(check, 1, `check after index ${how}`);
    if (how !== 'delete') assert.match(check.stderr, new RegExp(`index file ${victim}`), describe(check));
    else assert.match(check.stderr, /not in (the|any) index/i, describe(check));
    assertExit(await run(['repair', 'index']), 0, `repair index after ${how}`);
    assertExit(await run(['check', '--read-data']), 0, `check after repair index (${how})`);
    await restoresIdentically(b, run, b.second);
  }
});

test('damaged snapshot files: check names the snapshot, the other one restores, forget clears the damage', { timeout: 180_000 }, async (t) => {
  const b = await base(t);
  for (const how of DAMAGES) {
    const { repo, run } = copy(b);
    damage(join(repo, 'snapshots', b.first), how);
    const check = await run(['check']);
    if (how === 'delete') assertExit(check, 0, 'check after a snapshot was deleted (nothing left to damage)');
    else {
      assertExit(check, 1, `check after snapshot ${how}`);
      assert.ok(`${check.stdout}${check.stderr}`.includes(b.first.slice(0, 8)), `check names snapshot ${b.first}: ${describe(check)}`);
    }
    const list = await run(['--json', 'snapshots']);
    assert.deepEqual((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id), [b.second], describe(list));
    await restoresIdentically(b, run, b.second);
    if (how !== 'delete') {
      assertExit(await run(['forget', b.first]), 0, 'forget of the damaged snapshot');
      assertExit(await run(['check']), 0, 'check after forget');
    }
  }
});

test('damaged key files: the other password still opens; check names the key; key remove clears it', { timeout: 180_000 }, async (t) => {
  const b = await base(t);
  assert.equal(b.keys.length, 2);
  for (const how of DAMAGES) {
    const { repo, run } = copy(b);
    // damage the key the first password opens; the second password must carry on
    const first = await run(['--json', 'key', 'list']);
    const current = (JSON.parse(first.stdout) as { id: string; current: boolean }[]).find((k) => k.current)?.id;
    assert.ok(current);
    damage(join(repo, 'keys', current), how);
    const wrong = await run(['snapshots']);
    assertExit(wrong, 12, `the first password after key ${how}`);
    const other = { PYBACKUP_PASSWORD: SECOND };
    const check = await run(['check'], other);
    if (how === 'delete') assertExit(check, 0, 'check with one key deleted');
    else {
      assertExit(check, 1, `check after key ${how}`);
      assert.match(check.stderr, new RegExp(`key file ${current}`), describe(check));
      assertExit(await run(['key', 'remove', current], other), 0, 'key remove of the damaged key');
      assertExit(await run(['check'], other), 0, 'check after key remove');
    }
    const target = b.sb.path(`restore-key-${how}`);
    assertExit(await run(['restore', b.second, '--target', target], other), 0, 'restore with the second password');
    assertSameTree(b.sb.src, join(target, b.sb.src), { skipRootTimes: true });
  }
});

test('a damaged or missing config: a clear one-line error, no stack trace, nothing changed', { timeout: 120_000 }, async (t) => {
  const b = await base(t);
  for (const how of DAMAGES) {
    const { repo, run } = copy(b);
    damage(join(repo, 'config'), how);
    const before = names(join(repo, 'snapshots'));
    for (const args of [['snapshots'], ['check'], ['backup', b.sb.src], ['restore', 'latest', '--target', b.sb.path('never')]]) {
      const r = await run(args);
      assertExit(r, how === 'delete' ? 10 : 1, `${args[0]} after config ${how}`);
      assert.match(r.stderr, how === 'delete' ? /no repository/ : /config/, describe(r));
    }
    assert.deepEqual(names(join(repo, 'snapshots')), before, 'nothing was written');
  }
});

test('garbage lock files do not block anything and are reported by no one as damage', { timeout: 120_000 }, async (t) => {
  const b = await base(t);
  const { repo, run } = copy(b);
  writeFileSync(join(repo, 'locks', 'a'.repeat(64)), 'garbage');
  writeFileSync(join(repo, 'locks', 'b'.repeat(64)), '');
  assertExit(await run(['backup', b.sb.src]), 0, 'backup next to garbage locks');
  assertExit(await run(['check']), 0, 'check next to garbage locks');
  await restoresIdentically(b, run, 'latest');
});

test('a damaged tree blob: check names the directory; repair packs + repair snapshots keep the rest', { timeout: 180_000 }, async (t) => {
  const b = await base(t);
  const { repo, run } = copy(b);
  const sub = (await nodeOf(b.sb, `${b.second}:${b.sb.src}`, 'two', repo)).subtree;
  assert.ok(sub);
  const loc = await locate(b.sb, sub, repo);
  flipByte(packPath(repo, loc.pack), loc.offset + Math.floor(loc.length / 2));
  const check = await run(['check']);
  assertExit(check, 1, 'check after a tree flip');
  assert.ok(check.stderr.includes(sub.slice(0, 8)) || check.stderr.includes(loc.pack.slice(0, 8)), describe(check));
  assert.match(check.stderr, /two/, `check names the affected path: ${describe(check)}`);
  assertExit(await run(['repair', 'packs', loc.pack]), 0, 'repair packs');
  assertExit(await run(['repair', 'snapshots', '--forget']), 0, 'repair snapshots --forget');
  assertExit(await run(['check', '--read-data']), 0, 'check after repair');
  const list = JSON.parse((await run(['--json', 'snapshots'])).stdout) as { id: string; tags?: string[]; time: string }[];
  const repaired = list.find((s) => s.tags?.includes('repaired'));
  assert.ok(repaired, `a repaired snapshot: ${JSON.stringify(list)}`);
  const target = b.sb.path('restore-tree');
  assertExit(await run(['restore', repaired.id, '--target', target]), 0, 'restore of the repaired snapshot');
  assertSameTree(join(b.sb.src, 'one'), join(target, b.sb.src, 'one'));
  assert.deepEqual(readdirSync(join(target, b.sb.src, 'two')), [], 'the damaged directory is restored empty');
});
