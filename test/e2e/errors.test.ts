/**
 * 5. Opening problems map to their exit codes with a one-line message. 13. Garbage input never produces a stack trace.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PASSWORD, Sandbox, assertExit, assertNoStackTrace, describe, runCli, type CliResult } from './helpers.ts';

function oneLine(r: CliResult): string {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected a one-line message, got ${describe(r)}`);
  return lines[0] ?? '';
}

test('wrong password: exit 12, one line, no stack trace', async (t) => {
  const sb = await Sandbox.create(t);
  for (const args of [['snapshots'], ['restore', 'latest', '--target', sb.path('t')], ['cat', 'config']]) {
    const r = await sb.cli(args, { env: { PYBACKUP_PASSWORD: 'not the password' } });
    assertExit(r, 12, args.join(' '));
    assertNoStackTrace(r);
    assert.match(oneLine(r), /password/i);
  }
  // --password-file with the wrong content too
  writeFileSync(sb.path('pw'), 'wrong\n');
  const r = await sb.cli(['--password-file', sb.path('pw'), 'snapshots'], { env: { PYBACKUP_PASSWORD: undefined } });
  assertExit(r, 12);
  assertNoStackTrace(r);
  // the right password through a file, a command, and PYBACKUP_REPOSITORY instead of -r
  writeFileSync(sb.path('pw'), `${PASSWORD}\n`);
  assertExit(await sb.cli(['--password-file', sb.path('pw'), 'snapshots'], { env: { PYBACKUP_PASSWORD: undefined } }), 0, 'password file');
  assertExit(await sb.cli(['--password-command', `cat '${sb.path('pw')}'`, 'snapshots'], { env: { PYBACKUP_PASSWORD: undefined } }), 0, 'password command');
  const viaEnv = await runCli(['snapshots'], { env: { ...sb.env, PYBACKUP_REPOSITORY: sb.repo } });
  assertExit(viaEnv, 0, 'PYBACKUP_REPOSITORY');
  const failing = await sb.cli(['--password-command', 'exit 3', 'snapshots'], { env: { PYBACKUP_PASSWORD: undefined } });
  assert.notEqual(failing.code, 0);
  assertNoStackTrace(failing);
  const noPw = await sb.cli(['snapshots'], { env: { PYBACKUP_PASSWORD: undefined } });
  assert.notEqual(noPw.code, 0);
  assert.match(noPw.stderr, /password/);
  assertNoStackTrace(noPw);
});

test('no repository: exit 10; a regular file as repository: clean error', async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  const missing = await sb.cli(['snapshots'], { repo: sb.path('nothing-here') });
  assertExit(missing, 10, 'missing repository');
  assertNoStackTrace(missing);
  assert.match(oneLine(missing), /no repository/i);

  const emptyDir = sb.path('empty-dir');
  mkdirSync(emptyDir);
  const empty = await sb.cli(['snapshots'], { repo: emptyDir });
  assertExit(empty, 10, 'empty directory');
  assertNoStackTrace(empty);

  const file = sb.path('a-file');
  writeFileSync(file, 'not a repository');
  for (const args of [['snapshots'], ['backup', sb.dir], ['restore', 'latest', '--target', sb.path('t')]]) {
    const r = await sb.cli(args, { repo: file });
    assert.ok(r.code === 10 || r.code === 1, `repository is a file (${args[0]}): ${describe(r)}`);
    assertNoStackTrace(r);
    oneLine(r);
  }
  // init on a regular file fails cleanly too
  const init = await sb.cli(['init', '--kdf-memory', '8192'], { repo: file });
  assert.notEqual(init.code, 0, describe(init));
  assertNoStackTrace(init);

  // and no repository given at all
  const none = await runCli(['snapshots'], { env: { PYBACKUP_PASSWORD: 'x', PYBACKUP_REPOSITORY: undefined } });
  assert.notEqual(none.code, 0);
  assertNoStackTrace(none);
});

test('garbage arguments never produce a stack trace', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'data');
  await sb.backup([sb.src]);
  const target = sb.path('target');
  const cases: { args: string[]; match: RegExp }[] = [
    { args: ['restore', 'zz', '--target', target], match: /zz/ },
    { args: ['restore', '../x', '--target', target], match: /\.\.\/x/ },
    { args: ['restore', 'zz:/tmp', '--target', target], match: /zz/ },
    { args: ['cat', 'snapshot', 'zz'], match: /zz/ },
    { args: ['cat', 'snapshot', '../x'], match: /\.\.\/x/ },
    { args: ['cat', 'tree', '../../etc'], match: /\.\./ },
    { args: ['cat', 'pack', '../../config'], match: /\.\./ },
    { args: ['cat', 'blob', 'zz'], match: /blob/ },
    { args: ['cat', 'nonsense', 'x'], match: /nonsense/ },
    { args: ['stats', 'zz'], match: /zz/ },
    { args: ['snapshots', '--no-such-flag'], match: /unknown option/ },
    { args: ['--frobnicate', 'snapshots'], match: /unknown option/ },
    { args: ['frobnicate'], match: /unknown command|frobnicate/ },
    { args: ['restore', 'latest', '--target', target, '--overwrite', 'sometimes'], match: /--overwrite/ },
    { args: ['restore', 'latest'], match: /target/ },
    { args: ['backup', sb.path('does-not-exist')], match: /does-not-exist/ },
    { args: ['backup', sb.src, '--exclude-larger-than', '12Q'], match: /12Q/ },
    { args: ['backup', sb.src, '--exclude-larger-than', '-5'], match: /-5/ },
    { args: ['backup', sb.src, '--time', 'yesterday-ish'], match: /time/ },
    { args: ['backup', sb.src, '--tag', ','], match: /tag/ },
    { args: ['backup', sb.src, '--exclude-file', sb.path('no-such-file')], match: /no-such-file/ },
    { args: ['backup', sb.src, '--files-from', sb.path('no-such-list')], match: /no-such-list/ },
    { args: ['backup'], match: /nothing to back up/ },
    { args: ['backup', '--stdin', sb.src], match: /stdin/ },
    { args: ['backup', '--stdin', '--stdin-filename', 'a/b'], match: /stdin-filename/ },
    { args: ['stats', '--mode', 'bogus'], match: /mode/ },
    { args: ['snapshots', '--latest', 'abc'], match: /--latest/ },
    { args: ['restore', 'latest', '--target', target, '--include', ''], match: /pattern/ },
  ];
  for (const c of cases) {
    const r = await sb.cli(c.args);
    assert.notEqual(r.code, 0, `${c.args.join(' ')} should fail: ${describe(r)}`);
    assert.ok(r.code === 1 || r.code === 10, `${c.args.join(' ')}: exit 1 expected: ${describe(r)}`);
    assertNoStackTrace(r, c.args.join(' '));
    assert.match(r.stderr, c.match, `${c.args.join(' ')}: message should say what is wrong: ${describe(r)}`);
  }
  // init twice
  const again = await sb.cli(['init', '--kdf-memory', '8192']);
  assert.notEqual(again.code, 0);
  assertNoStackTrace(again);
  // bad init values
  for (const args of [['--kdf-memory', '12'], ['--compression', '99'], ['--chunk-avg', '1000'], ['--pack-size', 'huge']]) {
    const r = await sb.cli(['init', ...args], { repo: sb.path('other-repo') });
    assertExit(r, 1, `init ${args.join(' ')}`);
    assertNoStackTrace(r);
  }
});

test('a truncated snapshot file is reported, other snapshots still work', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'first');
  const a = await sb.backup([sb.src, '--tag', 'first']);
  writeFileSync(join(sb.src, 'f'), 'second version');
  const b = await sb.backup([sb.src, '--tag', 'second']);
  assert.ok(a.snapshot_id && b.snapshot_id);
  const victim = join(sb.repo, 'snapshots', a.snapshot_id);
  truncateSync(victim, Math.floor(statSync(victim).size / 2));

  const list = await sb.cli(['snapshots']);
  assertNoStackTrace(list);
  assert.match(list.stderr, new RegExp(a.snapshot_id.slice(0, 8)), 'the broken snapshot is named');
  assert.match(list.stdout, new RegExp(b.snapshot_id.slice(0, 8)), 'the good snapshot is listed');

  const target = sb.path('target');
  const r = await sb.cli(['restore', b.snapshot_id.slice(0, 10), '--target', target]);
  assertExit(r, 0, 'restore of the intact snapshot');
  assert.equal(readFileSync(join(target, sb.src, 'f'), 'utf8'), 'second version');

  for (const args of [['restore', a.snapshot_id, '--target', sb.path('t2')], ['cat', 'snapshot', a.snapshot_id], ['stats'], ['backup', sb.src]]) {
    const x = await sb.cli(args);
    assertNoStackTrace(x, args.join(' '));
    if (args[0] !== 'stats' && args[0] !== 'backup') assert.notEqual(x.code, 0, `${args.join(' ')} of a broken snapshot fails: ${describe(x)}`);
    if (args[0] !== 'backup') assert.match(x.stderr, new RegExp(`${a.snapshot_id}.*corrupted`), `${args[0]} says the snapshot is damaged: ${describe(x)}`);
  }
});

test('a garbage key file does not stop the right password; the wrong one still gets exit 12', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  await sb.backup([sb.src]);
  const keys = join(sb.repo, 'keys');
  const real = readdirSync(keys);
  assert.equal(real.length, 1);
  const garbage: [string, string | Buffer][] = [
    ['0'.repeat(64), 'this is not json'],
    ['1'.repeat(64), '{"version":1,"kdf":{"algorithm":"argon2id","memory":99999999999,"passes":1,"parallelism":1,"salt":"AAAA"},"data":"AAAA"}'],
    ['2'.repeat(64), Buffer.from([0xff, 0xfe, 0x00, 0x01])],
    ['3'.repeat(64), '{}'],
    ['f'.repeat(64), ''],
  ];
  for (const [name, content] of garbage) writeFileSync(join(keys, name), content);
  const ok = await sb.cli(['snapshots']);
  assertExit(ok, 0, 'snapshots with garbage keys present');
  assertNoStackTrace(ok);
  const bad = await sb.cli(['snapshots'], { env: { PYBACKUP_PASSWORD: 'wrong' } });
  assertExit(bad, 12, 'wrong password with garbage keys present');
  assertNoStackTrace(bad);
  const cat = await sb.cli(['cat', 'key', '0000']);
  assertNoStackTrace(cat, 'cat key of a garbage key');
});
