/**
 * 6. Unreadable files and directories (backup as uid 65534): exit 3, the files are named, the snapshot is still
 * written, and the readable files restore (also as a non-root user).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { IS_ROOT, Sandbox, assertExit, assertNoStackTrace, jsonLines, summaryOf, writeRandomFile } from './helpers.ts';

test('permission-denied files: exit 3, named in warnings, snapshot saved, rest restorable', { skip: !IS_ROOT && 'needs root to drop privileges' }, async (t) => {
  const sb = await Sandbox.create(t, { forNobody: true });
  mkdirSync(join(sb.src, 'ok-dir'), { recursive: true });
  mkdirSync(join(sb.src, 'locked-dir'));
  writeFileSync(join(sb.src, 'readable.txt'), 'anyone may read this');
  writeFileSync(join(sb.src, 'ok-dir', 'nested.txt'), 'nested and readable');
  writeRandomFile(join(sb.src, 'ok-dir', 'big.bin'), 1 << 20);
  writeFileSync(join(sb.src, 'secret.txt'), 'nobody may read this');
  writeFileSync(join(sb.src, 'locked-dir', 'hidden.txt'), 'inside an unreadable dir');
  sb.giveToNobody(sb.src);
  chmodSync(join(sb.src, 'secret.txt'), 0o000);
  chmodSync(join(sb.src, 'locked-dir'), 0o000);

  const r = await sb.cli(['--json', 'backup', sb.src]);
  assertExit(r, 3, 'backup with unreadable files');
  assertNoStackTrace(r);
  const errors = jsonLines(r.stdout).filter((l) => l.message_type === 'error');
  const items = errors.map((e) => String(e.item));
  assert.ok(items.some((i) => i.endsWith('/secret.txt')), `secret.txt is named: ${items.join(', ')}`);
  assert.ok(items.some((i) => i.endsWith('/locked-dir')), `locked-dir is named: ${items.join(', ')}`);
  const s = summaryOf(r);
  assert.ok(s.snapshot_id, 'a snapshot was saved');
  assert.equal(s.error_count, 2);

  // plain-text mode names the file on stderr too
  const plain = await sb.cli(['backup', sb.src]);
  assertExit(plain, 3, 'plain backup with unreadable files');
  assert.match(plain.stderr, /secret\.txt/);
  assertNoStackTrace(plain);

  const list = await sb.cli(['--json', 'snapshots']);
  assertExit(list, 0, 'snapshots');
  assert.equal((JSON.parse(list.stdout) as unknown[]).length, 2);

  // restore as nobody (no chown) into a fresh directory
  const target = sb.path('target');
  const rr = await sb.cli(['restore', s.snapshot_id, '--target', target]);
  assertExit(rr, 0, 'restore as nobody');
  const out = join(target, sb.src);
  assert.equal(readFileSync(join(out, 'readable.txt'), 'utf8'), 'anyone may read this');
  assert.equal(readFileSync(join(out, 'ok-dir', 'nested.txt'), 'utf8'), 'nested and readable');
  assert.ok(readFileSync(join(out, 'ok-dir', 'big.bin')).equals(readFileSync(join(sb.src, 'ok-dir', 'big.bin'))));
  assert.equal(existsSync(join(out, 'secret.txt')), false, 'the unreadable file is not in the snapshot');
});

test('restore into a target that cannot be created: clean error', { skip: !IS_ROOT && 'needs root to drop privileges' }, async (t) => {
  const sb = await Sandbox.create(t, { forNobody: true });
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  sb.giveToNobody(sb.src);
  await sb.backup([sb.src]);
  const locked = sb.path('root-only');
  mkdirSync(locked, { mode: 0o755 });
  const r = await sb.cli(['restore', 'latest', '--target', join(locked, 'target')]);
  assert.notEqual(r.code, 0);
  assertNoStackTrace(r);
  assert.match(r.stderr, /root-only|permission|EACCES/i);

  // a target that is a regular file
  const file = sb.path('a-file');
  writeFileSync(file, 'in the way');
  const f = await sb.cli(['restore', 'latest', '--target', file], { asRoot: true });
  assert.notEqual(f.code, 0);
  assertNoStackTrace(f);
  assert.match(f.stderr, /a-file/);
  assert.equal(readFileSync(file, 'utf8'), 'in the way');
});
