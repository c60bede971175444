/**
 * Append-only mode: set at init or with `config`; backups keep working; anything that would delete or rewrite data
 * is refused with a clear message and changes nothing; `config --append-only off` lifts it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, describe, listFiles } from './helpers.ts';

test('append-only: backups work, deleting commands are refused, config toggles it', { timeout: 120_000 }, async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--append-only'] });
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'one');
  await sb.backup([sb.src]);
  writeFileSync(join(sb.src, 'f'), 'two');
  await sb.backup([sb.src]);

  const show = await sb.cli(['--json', 'config']);
  assertExit(show, 0, 'config');
  assert.equal((JSON.parse(show.stdout) as { appendOnly: boolean }).appendOnly, true);
  const text = await sb.cli(['config']);
  assert.match(text.stdout, /append-only: +on/, describe(text));

  // the backstop: a removal through the repository API is refused and nothing changes
  const before = listFiles(sb.repo);
  const repo = await sb.open();
  try {
    const [snap] = [...before.keys()].filter((p) => p.startsWith('snapshots/'));
    assert.ok(snap);
    await assert.rejects(repo.backend.remove({ type: 'snapshot', name: snap.slice('snapshots/'.length) }), /append-only/);
  } finally {
    await repo.close();
  }
  assert.deepEqual(listFiles(sb.repo), before, 'nothing was removed');

  // adding a key is allowed; removing one, or a password change (which removes the old key file), is not
  writeFileSync(sb.path('pw2'), 'second password');
  assertExit(await sb.cli(['key', 'add', '--new-password-file', sb.path('pw2'), '--kdf-memory', '8192']), 0, 'key add');
  const keys = JSON.parse((await sb.cli(['--json', 'key', 'list'])).stdout) as { id: string; current: boolean }[];
  const other = keys.find((k) => !k.current);
  assert.ok(other, 'a second key');
  for (const args of [['key', 'remove', other.id], ['key', 'passwd', '--new-password-file', sb.path('pw2'), '--kdf-memory', '8192']]) {
    const r = await sb.cli(args);
    assertExit(r, 1, args.join(' '));
    assertNoStackTrace(r);
    assert.match(r.stderr, /append-only/, describe(r));
  }
  assert.equal(JSON.parse((await sb.cli(['--json', 'key', 'list'])).stdout).length, 2, 'both keys are still there');

  for (const bad of ['maybe', '']) {
    const r = await sb.cli(['config', '--append-only', bad]);
    assertExit(r, 1, `config --append-only ${JSON.stringify(bad)}`);
    assertNoStackTrace(r);
  }
  const off = await sb.cli(['config', '--append-only', 'off']);
  assertExit(off, 0, 'config --append-only off');
  assert.match((await sb.cli(['config'])).stdout, /append-only: +off/);
  const on = await sb.cli(['--json', 'config', '--append-only', 'on']);
  assertExit(on, 0, 'config --append-only on');
  assert.equal((JSON.parse(on.stdout) as { appendOnly: boolean }).appendOnly, true);
  // everything still opens and checks after two config rewrites
  assertExit(await sb.cli(['check']), 0, 'check');
  assertExit(await sb.cli(['restore', 'latest', '--target', sb.path('t')]), 0, 'restore');
});
