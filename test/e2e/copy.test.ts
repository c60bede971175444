/** `copy --from-repo`: snapshots move between repositories with different keys; copies are skipped the second time. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PASSWORD, Sandbox, assertExit, assertNoStackTrace, assertSameTree, jsonLines, restoredPath, writeRandomFile } from './helpers.ts';

interface CopyJson {
  snapshots_copied: number;
  snapshots_skipped: number;
  data_added: number;
  data_blobs: number;
  mode: string;
}

function copySummary(stdout: string): CopyJson {
  const s = jsonLines(stdout).filter((l) => l.message_type === 'summary');
  assert.equal(s.length, 1, stdout);
  return s[0] as unknown as CopyJson;
}

function makeSource(sb: Sandbox): void {
  mkdirSync(join(sb.src, 'a', 'b'), { recursive: true });
  writeRandomFile(join(sb.src, 'big.bin'), 3 << 20);
  writeRandomFile(join(sb.src, 'a', 'one.bin'), 300_000);
  writeFileSync(join(sb.src, 'a', 'b', 'text.txt'), 'some text\n'.repeat(5000));
  writeFileSync(join(sb.src, 'empty'), '');
}

test('copy A -> B: restore equals the source, a second copy skips everything, a new snapshot alone is copied', async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--chunk-min', '64K', '--chunk-avg', '256K', '--chunk-max', '1M'] });
  const b = sb.path('b');
  assertExit(await sb.cli(['init', '--kdf-memory', '8192'], { repo: b }), 0, 'init B');
  makeSource(sb);
  await sb.backup([sb.src, '--tag', 'laptop']);
  const env = { PYBACKUP_FROM_PASSWORD: PASSWORD };

  const first = await sb.cli(['--json', 'copy', '--from-repo', sb.repo], { repo: b, env });
  assertExit(first, 0, 'copy');
  const s1 = copySummary(first.stdout);
  t.diagnostic(`first copy: ${JSON.stringify(s1)}`);
  assert.equal(s1.snapshots_copied, 1);
  assert.equal(s1.mode, 'rechunk');
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target], { repo: b }), 0, 'restore from B');
  assertSameTree(sb.src, restoredPath(target, sb.src));
  const snaps = JSON.parse((await sb.cli(['--json', 'snapshots'], { repo: b })).stdout) as { tags?: string[] }[];
  assert.deepEqual(snaps[0]?.tags, ['laptop']);

  const again = await sb.cli(['--json', 'copy', '--from-repo', sb.repo], { repo: b, env });
  assertExit(again, 0, 'second copy');
  const s2 = copySummary(again.stdout);
  assert.deepEqual([s2.snapshots_copied, s2.snapshots_skipped, s2.data_added], [0, 1, 0]);

  writeFileSync(join(sb.src, 'a', 'new.txt'), 'new file');
  await sb.backup([sb.src]);
  const third = await sb.cli(['--json', 'copy', '--from-repo', sb.repo], { repo: b, env });
  assertExit(third, 0, 'third copy');
  const s3 = copySummary(third.stdout);
  t.diagnostic(`after a new snapshot: ${JSON.stringify(s3)}`);
  assert.deepEqual([s3.snapshots_copied, s3.snapshots_skipped], [1, 1]);
  assert.ok(s3.data_added < 64 << 10, `little data added (${s3.data_added})`);

  // text output, snapshot selection by id and a clean error for a bad id
  const text = await sb.cli(['copy', '--from-repo', sb.repo, 'latest'], { repo: b, env });
  assertExit(text, 0, 'copy latest');
  assert.match(text.stdout, /copied 0 snapshot\(s\), skipped 1 already present/);
  const bad = await sb.cli(['copy', '--from-repo', sb.repo, 'abcdef12'], { repo: b, env });
  assertExit(bad, 1, 'bad snapshot id');
  assert.match(bad.stderr, /no snapshot matches ID "abcdef12"/);
  assertNoStackTrace(bad);
  const bad2 = await sb.cli(['copy', '--from-repo', sb.repo, 'not/an-id'], { repo: b, env });
  assert.notEqual(bad2.code, 0);
  assertNoStackTrace(bad2);
});

test('init --copy-chunker-params: copy keeps boundaries and a direct backup into B adds (almost) no data', async (t) => {
  const sb = await Sandbox.create(t, { initArgs: ['--chunk-min', '64K', '--chunk-avg', '256K', '--chunk-max', '1M'] });
  const b = sb.path('b');
  const env = { PYBACKUP_FROM_PASSWORD: PASSWORD };
  assertExit(await sb.cli(['init', '--kdf-memory', '8192', '--copy-chunker-params', '--from-repo', sb.repo], { repo: b, env }), 0, 'init B');
  makeSource(sb);
  await sb.backup([sb.src]);
  const r = await sb.cli(['--json', 'copy'], { repo: b, env: { ...env, PYBACKUP_FROM_REPOSITORY: sb.repo } });
  assertExit(r, 0, 'copy');
  const s = copySummary(r.stdout);
  assert.equal(s.mode, 'keep-boundaries');
  const bk = await sb.cli(['--json', 'backup', sb.src], { repo: b });
  assertExit(bk, 0, 'backup into B');
  t.diagnostic(`copy: ${JSON.stringify(s)}; backup into B: ${JSON.stringify(jsonLines(bk.stdout).at(-1))}`);
  const sum = jsonLines(bk.stdout).find((l) => l.message_type === 'summary') as { data_blobs: number; data_added: number };
  assert.equal(sum.data_blobs, 0, 'no new data blobs');
});

test('copy errors: wrong source password, missing source, no source given', async (t) => {
  const sb = await Sandbox.create(t);
  const b = sb.path('b');
  assertExit(await sb.cli(['init', '--kdf-memory', '8192'], { repo: b }), 0, 'init B');
  const wrong = await sb.cli(['copy', '--from-repo', sb.repo], { repo: b, env: { PYBACKUP_FROM_PASSWORD: 'wrong' } });
  assertExit(wrong, 12, 'wrong source password');
  assert.match(wrong.stderr, /wrong password for the source repository/);
  assertNoStackTrace(wrong);
  const missing = await sb.cli(['copy', '--from-repo', sb.path('nope')], { repo: b, env: { PYBACKUP_FROM_PASSWORD: PASSWORD } });
  assertExit(missing, 10, 'missing source');
  assert.match(missing.stderr, /source repository: no repository found/);
  assertNoStackTrace(missing);
  const none = await sb.cli(['copy'], { repo: b, env: { PYBACKUP_FROM_PASSWORD: PASSWORD } });
  assertExit(none, 1, 'no source');
  assert.match(none.stderr, /no source repository given/);
  const same = await sb.cli(['copy', '--from-repo', sb.repo], { env: { PYBACKUP_FROM_PASSWORD: PASSWORD } });
  assertExit(same, 1, 'same repository');
  assert.match(same.stderr, /same repository/);
  const nopw = await sb.cli(['copy', '--from-repo', sb.repo], { repo: b });
  assertExit(nopw, 1, 'no source password');
  assert.match(nopw.stderr, /no password given for the source repository/);
});
