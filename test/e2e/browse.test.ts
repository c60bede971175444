/**
 * Browsing through the real CLI: ls, find and history, with --json, odd file names (not UTF-8, newline, colon,
 * backslash), several snapshots, the tree catalog, and garbage input (bad IDs, ":" edge cases, bad regex, missing
 * paths) -> clear errors without stack traces.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, describe, jsonLines } from './helpers.ts';

const ODD = Buffer.from([0x6f, 0x64, 0x64, 0xff, 0x2e, 0x74, 0x78, 0x74]); // "odd\xff.txt"

/** Three snapshots of sb.src: v1; v2 edits a.txt, chmods b.md, adds c.txt, removes link; v3 deletes a.txt. */
async function setup(t: Parameters<typeof Sandbox.create>[0]): Promise<{ sb: Sandbox; ids: string[] }> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'docs', 'deep'), { recursive: true });
  writeFileSync(join(sb.src, 'docs', 'a.txt'), 'alpha\n');
  writeFileSync(join(sb.src, 'docs', 'deep', 'note.md'), 'deep note\n');
  writeFileSync(join(sb.src, 'b.md'), 'bee\n');
  writeFileSync(Buffer.concat([Buffer.from(`${sb.src}/`), ODD]), 'not utf-8 name\n');
  writeFileSync(join(sb.src, 'new\nline'), 'newline in name\n');
  writeFileSync(join(sb.src, 'a:b'), 'colon\n');
  writeFileSync(join(sb.src, 'back\\slash'), 'backslash\n');
  symlinkSync('docs/a.txt', join(sb.src, 'link'));
  await sb.backup([sb.src]);
  writeFileSync(join(sb.src, 'docs', 'a.txt'), 'alpha two\n');
  chmodSync(join(sb.src, 'b.md'), 0o600);
  writeFileSync(join(sb.src, 'docs', 'c.txt'), 'sea\n');
  rmSync(join(sb.src, 'link'));
  await sb.backup([sb.src]);
  rmSync(join(sb.src, 'docs', 'a.txt'));
  await sb.backup([sb.src]);
  const r = await sb.cli(['--json', 'snapshots']);
  assertExit(r, 0, 'snapshots');
  return { sb, ids: (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id) };
}

async function ok(sb: Sandbox, args: readonly string[]): Promise<string> {
  const r = await sb.cli(args);
  assertExit(r, 0, args.join(' '));
  assertNoStackTrace(r);
  return r.stdout;
}

test('ls, find, history', async (t) => {
  const { sb, ids } = await setup(t);
  const src = sb.src;

  await t.test('ls: one level by default, -R for all, -l long format, files and odd names', async () => {
    const top = await ok(sb, ['ls', `latest:${src}`]);
    const lines = top.trim().split('\n');
    assert.match(lines[0] ?? '', /^snapshot [0-9a-f]{8} of \[.*\] at .* by .*:$/);
    assert.deepEqual(lines.slice(1), [`${src}/a:b`, `${src}/b.md`, `${src}/back\\slash`, `${src}/docs`, `${src}/new\\nline`, `${src}/odd\\xff.txt`]);
    const rec = await ok(sb, ['ls', '-R', `latest:${src}/docs`]);
    assert.deepEqual(rec.trim().split('\n').slice(1), [`${src}/docs/c.txt`, `${src}/docs/deep`, `${src}/docs/deep/note.md`]);
    const long = await ok(sb, ['ls', '-l', ids[0] as string, src]);
    assert.match(long, new RegExp(`^-rw-r--r-- +root +root +4 \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${src}/b\\.md$`, 'm'));
    assert.match(long, new RegExp(`^lrwxrwxrwx .* ${src}/link -> docs/a\\.txt$`, 'm'));
    assert.match(await ok(sb, ['ls', '-l', `latest:${src}/b.md`]), /^-rw------- .*\/b\.md$/m);
    // the escaped names ls shows are accepted back as paths
    assert.match(await ok(sb, ['ls', `latest:${src}/odd\\xff.txt`]), /odd\\xff\.txt$/m);
    assert.match(await ok(sb, ['ls', `latest:${src}/new\\nline`]), /new\\nline$/m);
    assert.match(await ok(sb, ['ls', `latest:${src}/new\nline`]), /new\\nline$/m);
    assert.match(await ok(sb, ['ls', `latest:${src}/a:b`]), /a:b$/m);
    assert.match(await ok(sb, ['ls', `latest:${src}/back\\slash`]), /back\\slash$/m);
    assert.match(await ok(sb, ['ls', `${(ids[0] as string).slice(0, 6)}:${src}/docs`]), /docs\/a\.txt$/m);
    const q = await ok(sb, ['-q', 'ls', `latest:${src}/docs`]);
    assert.doesNotMatch(q, /^snapshot/m);
  });

  await t.test('ls --json: a snapshot line, then one node per line with raw bytes where needed', async () => {
    const l = jsonLines(await ok(sb, ['--json', 'ls', '-R', `latest:${src}`]));
    assert.equal(l[0]?.struct_type, 'snapshot');
    assert.equal(l[0]?.id, ids[2]);
    const odd = l.find((n) => n.name_raw !== undefined);
    assert.ok(odd, 'the odd name carries name_raw');
    assert.ok(Buffer.from(odd.name_raw as string, 'base64').equals(ODD));
    assert.ok(Buffer.from(odd.path_raw as string, 'base64').equals(Buffer.concat([Buffer.from(`${src}/`), ODD])));
    const b = l.find((n) => n.name === 'b.md');
    assert.deepEqual([b?.type, b?.size, b?.permissions, b?.message_type], ['file', 4, '-rw-------', 'node']);
    assert.match(String(b?.mtime_ns), /^\d+$/);
  });

  await t.test('find: globs and regexes over names and paths, grouped per snapshot, from the tree catalog', async () => {
    const out = await ok(sb, ['find', '*.txt']);
    const groups = out.trim().split('\n\n');
    assert.equal(groups.length, 3);
    assert.match(groups[0] ?? '', /^Found matching entries in snapshot [0-9a-f]{8} from /);
    assert.match(groups[0] ?? '', new RegExp(`\\s${src}/docs/a\\.txt$`, 'm'));
    assert.doesNotMatch(groups[2] ?? '', /a\.txt/);
    assert.match(groups[2] ?? '', /docs\/c\.txt$/m);
    const j = jsonLines(await ok(sb, ['--json', 'find', 're:^NOTE\\.md$', '-i', '--snapshot', 'latest', '--snapshot', ids[0] as string]));
    const m = j.filter((x) => x.message_type === 'match');
    assert.deepEqual(
      m.map((x) => [x.short_id, x.path]),
      [
        [(ids[0] as string).slice(0, 8), `${src}/docs/deep/note.md`],
        [(ids[2] as string).slice(0, 8), `${src}/docs/deep/note.md`],
      ],
    );
    const sum = j.find((x) => x.message_type === 'summary');
    assert.equal(sum?.trees_loaded, 0, 'the first find filled the tree catalog; this one read no tree');
    assert.ok(Number(sum?.trees_from_catalog) > 0);
    const anchored = jsonLines(await ok(sb, ['--json', 'find', `${src}/docs/*`, '--type', 'dir']));
    assert.deepEqual([...new Set(anchored.filter((x) => x.path).map((x) => x.path))], [`${src}/docs/deep`]);
    const r = await sb.cli(['find', 'no-such-thing-*']);
    assertExit(r, 0, 'find without matches');
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no matches in 3 snapshots/);
    assert.match(await ok(sb, ['find', 'odd*']), /odd\\xff\.txt$/m);
  });

  await t.test('history: added, changed, metadata, deleted per version', async () => {
    const out = await ok(sb, ['history', `${src}/docs/a.txt`]);
    const kinds = out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[3]);
    assert.deepEqual(kinds, ['added', 'changed', 'deleted']);
    assert.match(out, /present in 2 of 3 snapshots/);
    const j = jsonLines(await ok(sb, ['--json', 'history', `${src}/b.md`, '--all']));
    assert.deepEqual(j.map((x) => x.kind), ['added', 'metadata', 'unchanged']);
    assert.deepEqual(j.map((x) => x.permissions), ['-rw-r--r--', '-rw-------', '-rw-------']);
    assert.equal(j[0]?.snapshot, ids[0]);
    const dir = await ok(sb, ['history', `${src}/docs`]);
    assert.match(dir, /added +2 entries\s.*\n.*changed +3 entries/);
    // a relative path is taken from the current directory
    const rel = await sb.cli(['history', 'b.md'], { cwd: src });
    assertExit(rel, 0, 'history relative');
    assert.match(rel.stdout, /metadata/);
  });

  await t.test('garbage input gives clear errors, never a stack trace', async () => {
    const bad: [string[], RegExp][] = [
      [['ls', 'zz'], /invalid ID "zz"/],
      [['ls', 'abcdef0123'], /no snapshot matches ID/],
      [['ls', ':/x'], /missing snapshot ID/],
      [['ls', ':'], /missing snapshot ID/],
      [['ls', `latest:${src}/nope`], /not found in snapshot [0-9a-f]{8}: .* has no entry "nope"/],
      [['ls', `latest:${src}/b.md/x`], /is not a directory/],
      [['ls', `latest:${src}`, '/also'], /either as/],
      [['ls', '--host', 'nohost', 'latest'], /no snapshot found/],
      [['find', 're:('], /invalid regular expression "\("/],
      [['find', 're:'], /empty regular expression/],
      [['find', 'x', '--snapshot', 'qq'], /invalid ID "qq"/],
      [['find', 'x', '--type', 'blob'], /unknown type "blob"/],
      [['find', 'x', '--newest', 'yesterday-ish'], /invalid time/],
      [['history', '/nope/x'], /not found in any of 3 snapshots/],
      [['history', '/'], /needs a path below the snapshot root/],
    ];
    for (const [args, re] of bad) {
      const r = await sb.cli(args);
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail: ${describe(r)}`);
      assertNoStackTrace(r, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    const j = await sb.cli(['--json', 'ls', 'zz']);
    assert.equal(jsonLines(j.stdout).at(-1)?.message_type, 'exit_error');
  });
});
