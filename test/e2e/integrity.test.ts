/**
 * 4. A flipped byte in a pack is detected on restore: non-zero exit, the damaged file or blob is named, no crash,
 * and everything else is still restored. A missing pack is reported the same way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { locate, treeOf } from './repo-inspect.ts';
import { Sandbox, assertNoStackTrace, describe, jsonLines, sha256File, writeRandomFile, flipByte } from './helpers.ts';

test('a flipped byte in a data pack fails the restore of that file only', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'sub'), { recursive: true });
  writeRandomFile(join(sb.src, 'victim.bin'), 3 << 20);
  writeRandomFile(join(sb.src, 'survivor.bin'), 2 << 20);
  writeFileSync(join(sb.src, 'sub', 'small.txt'), 'small and unharmed');
  await sb.backup([sb.src]);

  const nodes = await treeOf(sb, `latest:${sb.src}`);
  const victim = nodes.find((n) => n.name === 'victim.bin');
  const blob = victim?.content?.[0];
  assert.ok(blob, 'victim has content');
  const loc = await locate(sb, blob);
  const packFile = join(sb.repo, 'data', loc.pack.slice(0, 2), loc.pack);
  assert.ok(existsSync(packFile), `pack file ${packFile}`);
  flipByte(packFile, loc.offset + Math.floor(loc.length / 2));

  const target = sb.path('target');
  const r = await sb.cli(['restore', 'latest', '--target', target]);
  assert.notEqual(r.code, 0, `restore must fail: ${describe(r)}`);
  assert.equal(r.code, 1, describe(r));
  assertNoStackTrace(r);
  assert.ok(r.stderr.includes('victim.bin') || r.stderr.includes(blob), `the error names the file or blob: ${describe(r)}`);
  assert.doesNotMatch(r.stderr, /survivor/, 'the intact file has no error');

  const out = join(target, sb.src);
  assert.equal(sha256File(join(out, 'survivor.bin')), sha256File(join(sb.src, 'survivor.bin')), 'other files are restored');
  assert.equal(readFileSync(join(out, 'sub', 'small.txt'), 'utf8'), 'small and unharmed');

  // --json reports it as an error line as well
  const j = await sb.cli(['--json', 'restore', 'latest', '--target', sb.path('target2')]);
  assert.equal(j.code, 1, describe(j));
  assertNoStackTrace(j);
  assert.match(j.stdout, /"message_type":"error"/);
  const summary = jsonLines(j.stdout).find((l) => l.message_type === 'summary');
  assert.equal(summary?.files_restored, 2, 'the failed file is not counted as restored');
  assert.equal(summary?.error_count, 1);
});

test('a flipped byte in a tree blob is reported; sibling directories are restored', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'damaged'), { recursive: true });
  mkdirSync(join(sb.src, 'intact'), { recursive: true });
  writeFileSync(join(sb.src, 'damaged', 'a'), 'in the damaged dir');
  writeFileSync(join(sb.src, 'intact', 'b'), 'in the intact dir');
  await sb.backup([sb.src]);
  const nodes = await treeOf(sb, `latest:${sb.src}`);
  const sub = nodes.find((n) => n.name === 'damaged')?.subtree;
  assert.ok(sub);
  const loc = await locate(sb, sub);
  flipByte(join(sb.repo, 'data', loc.pack.slice(0, 2), loc.pack), loc.offset + Math.floor(loc.length / 2));

  const target = sb.path('target');
  const r = await sb.cli(['restore', 'latest', '--target', target]);
  assert.equal(r.code, 1, describe(r));
  assertNoStackTrace(r);
  assert.match(r.stderr, /damaged/, describe(r));
  assert.equal(readFileSync(join(target, sb.src, 'intact', 'b'), 'utf8'), 'in the intact dir');
  assert.equal(existsSync(join(target, sb.src, 'damaged', 'a')), false);
});

test('a missing pack file: restore names the affected files, exit 1', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeRandomFile(join(sb.src, 'victim.bin'), 2 << 20);
  await sb.backup([sb.src]);
  const nodes = await treeOf(sb, `latest:${sb.src}`);
  const blob = nodes.find((n) => n.name === 'victim.bin')?.content?.[0];
  assert.ok(blob);
  const loc = await locate(sb, blob);
  rmSync(join(sb.repo, 'data', loc.pack.slice(0, 2), loc.pack));
  const r = await sb.cli(['restore', 'latest', '--target', sb.path('target')]);
  assert.equal(r.code, 1, describe(r));
  assertNoStackTrace(r);
  assert.match(r.stderr, /victim\.bin/);
  assert.match(r.stderr, new RegExp(loc.pack));
});
