/**
 * Several machines, one remote repository (issue 7.4): two "hosts" — separate processes with their own catalogs and
 * host names — back up at the same time to one REST repository (a real `rclone serve restic` on 127.0.0.1), both
 * snapshots restore, and a host's later backup of data the other host stored adds (almost) nothing.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, describe, jsonLines, writeRandomFile } from './helpers.ts';
import { startRcloneServe } from './rclone-serve.ts';

function makeData(dir: string, tag: string): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 4; i++) writeRandomFile(join(dir, `big-${i}.bin`), 1 << 20);
  for (let i = 0; i < 100; i++) writeFileSync(join(dir, `note-${i}.txt`), `${tag} ${i}\n`.repeat(20 + i));
}

test('two hosts back up concurrently to one REST repository and dedupe against each other', { timeout: 240_000 }, async (t) => {
  const sb = await Sandbox.create(t, { init: false });
  mkdirSync(sb.path('server'));
  const server = await startRcloneServe(sb.path('server'));
  t.after(() => server.stop());
  const repo = `rest:${server.url}shared/`;
  const host = (name: string): { env: Record<string, string> } => ({ env: { PYBACKUP_CACHE_DIR: sb.path(`cache-${name}`) } });
  assertExit(await sb.cli(['init', '--kdf-memory', '8192'], { repo }), 0, 'init over REST');

  const a = join(sb.src, 'laptop');
  const b = join(sb.src, 'desktop');
  makeData(a, 'laptop');
  makeData(b, 'desktop');
  const [ra, rb] = await Promise.all([
    sb.cli(['--json', 'backup', '--host', 'laptop', a], { repo, ...host('laptop'), timeoutMs: 120_000 }),
    sb.cli(['--json', 'backup', '--host', 'desktop', b], { repo, ...host('desktop'), timeoutMs: 120_000 }),
  ]);
  for (const r of [ra, rb]) {
    assertExit(r, 0, 'concurrent backup over REST');
    assertNoStackTrace(r);
  }

  // the desktop now backs up a copy of the laptop's files: the data is already in the repository
  const copy = join(sb.src, 'desktop-copy-of-laptop');
  cpSync(a, copy, { recursive: true });
  const again = await sb.cli(['--json', 'backup', '--host', 'desktop', copy], { repo, ...host('desktop'), timeoutMs: 120_000 });
  assertExit(again, 0, 'backup of data the other host stored');
  const s = jsonLines(again.stdout).find((l) => l.message_type === 'summary') as { data_added: number } | undefined;
  assert.ok(s, describe(again));
  assert.ok(s.data_added < 64 << 10, `deduplicated against the other host's data: ${s.data_added} bytes added for 4 MiB`);

  assertExit(await sb.cli(['check', '--read-data'], { repo, ...host('laptop'), timeoutMs: 120_000 }), 0, 'check --read-data');
  for (const [name, dir] of [['laptop', a], ['desktop', b]] as const) {
    const target = sb.path(`restore-${name}`);
    assertExit(await sb.cli(['restore', 'latest', '--host', name, '--path', dir, '--target', target], { repo, ...host(name), timeoutMs: 120_000 }), 0, `restore ${name}`);
    assertSameTree(dir, join(target, dir), { skipRootTimes: true });
  }
});
