/**
 * Keys: `key list | add | remove | passwd`. Adding a password, opening with it, the removal rules (never the last
 * key, not the key in use without --force), rotating the password, and clean errors for bad key IDs and sources.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addKey } from '../../src/repository/keys.ts';
import { PASSWORD, Sandbox, assertExit, assertNoStackTrace, assertSameTree, type CliResult, describe, jsonLines, restoredPath } from './helpers.ts';

interface KeyJson {
  id: string;
  current: boolean;
  damaged: boolean;
  username?: string;
  hostname?: string;
  created?: string;
  kdf?: { algorithm: string; memory: number; passes: number; parallelism: number };
}

const FAST = ['--kdf-memory', '8192'];

async function keys(sb: Sandbox, password = PASSWORD): Promise<KeyJson[]> {
  const r = await sb.cli(['--json', 'key', 'list'], { env: { PYBACKUP_PASSWORD: password } });
  assertExit(r, 0, 'key list --json');
  return JSON.parse(r.stdout) as KeyJson[];
}

function fails(r: CliResult, pattern: RegExp, what: string): void {
  assertExit(r, 1, what);
  assertNoStackTrace(r, what);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: expected a one-line message, got ${describe(r)}`);
  assert.match(lines[0] ?? '', pattern, what);
}

test('key add, list, remove (rules for the last key and the key in use), passwd', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src, { recursive: true });
  writeFileSync(join(sb.src, 'a.txt'), 'alpha');
  await sb.backup([sb.src]);
  const [original] = await keys(sb);
  assert.ok(original?.current);

  writeFileSync(sb.path('pw2'), 'second password\n');
  const add = await sb.cli(['--json', 'key', 'add', '--new-password-file', sb.path('pw2'), '--user', 'alice', '--host', 'box', ...FAST]);
  assertExit(add, 0, 'key add');
  const addedId = jsonLines(add.stdout).find((l) => l.message_type === 'key_added')?.id as string;
  assert.match(addedId, /^[0-9a-f]{64}$/);

  // the second password opens the repository, and is then the key in use
  assertExit(await sb.cli(['snapshots'], { env: { PYBACKUP_PASSWORD: 'second password' } }), 0, 'open with the second password');
  const list = await keys(sb);
  assert.equal(list.length, 2);
  assert.deepEqual(list.filter((k) => k.current).map((k) => k.id), [original.id]);
  const added = list.find((k) => k.id === addedId);
  assert.deepEqual([added?.username, added?.hostname, added?.kdf?.memory, added?.damaged], ['alice', 'box', 8192, false]);
  assert.deepEqual((await keys(sb, 'second password')).filter((k) => k.current).map((k) => k.id), [addedId]);
  const text = await sb.cli(['key', 'list']);
  assertExit(text, 0, 'key list');
  assert.match(text.stdout, new RegExp(`^\\*${original.id.slice(0, 8)}\\s`, 'm'));
  assert.match(text.stdout, new RegExp(`^ ${addedId.slice(0, 8)}\\s+alice\\s+box\\s`, 'm'));

  // the key in use needs --force; another key can go
  fails(await sb.cli(['key', 'remove', original.id.slice(0, 8)]), /in use.*--force/, 'remove the key in use');
  assert.equal((await keys(sb)).length, 2);
  const rm = await sb.cli(['key', 'remove', addedId.slice(0, 8)]);
  assertExit(rm, 0, 'remove the other key');
  assert.match(rm.stdout, new RegExp(`removed key ${addedId.slice(0, 8)}`));
  assertExit(await sb.cli(['snapshots'], { env: { PYBACKUP_PASSWORD: 'second password' } }), 12, 'removed password no longer opens');
  // the last key stays, even with --force
  fails(await sb.cli(['key', 'remove', '--force', original.id]), /last key/, 'remove the last key');
  assert.equal((await keys(sb)).length, 1);

  // passwd: the new password works, the old one fails with exit 12, backups and restores carry on
  const pw = await sb.cli(['--json', 'key', 'passwd', ...FAST], { env: { PYBACKUP_NEW_PASSWORD: 'third password' } });
  assertExit(pw, 0, 'key passwd');
  const changed = jsonLines(pw.stdout).find((l) => l.message_type === 'password_changed');
  assert.equal(changed?.removed, original.id);
  const old = await sb.cli(['snapshots']);
  assertExit(old, 12, 'old password after passwd');
  assertNoStackTrace(old);
  const env = { PYBACKUP_PASSWORD: 'third password' };
  assert.deepEqual((await keys(sb, 'third password')).map((k) => [k.id, k.current]), [[changed?.id, true]]);
  writeFileSync(join(sb.src, 'b.txt'), 'beta');
  await sb.backup([sb.src], { env });
  const target = sb.path('restore');
  assertExit(await sb.cli(['restore', 'latest', '--target', target], { env }), 0, 'restore with the new password');
  assertSameTree(sb.src, restoredPath(target, sb.src), { skipRootTimes: true });
  assertExit(await sb.cli(['check'], { env }), 0, 'check after passwd');
});

test('key commands: garbage IDs, ambiguous prefixes and missing passwords give clean one-line errors', async (t) => {
  const sb = await Sandbox.create(t);
  // 17 keys: by the pigeonhole principle two share their first hex digit
  const repo = await sb.open();
  try {
    for (let i = 0; i < 16; i++) await addKey(repo, `extra ${i}`, { kdf: { memory: 8192, passes: 1, parallelism: 1 } });
  } finally {
    await repo.close();
  }
  const ids = (await keys(sb)).map((k) => k.id);
  assert.equal(ids.length, 17);
  const firsts = ids.map((id) => id[0] ?? '');
  const shared = firsts.find((c, i) => firsts.indexOf(c) !== i) ?? '';
  const unknown = ids.includes('f'.repeat(64)) ? 'e'.repeat(64) : 'f'.repeat(64);
  const before = readdirSync(join(sb.repo, 'keys')).sort();

  fails(await sb.cli(['key', 'remove', 'zz']), /invalid ID "zz"/, 'remove zz');
  fails(await sb.cli(['key', 'remove', '']), /invalid ID ""/, 'remove ""');
  fails(await sb.cli(['key', 'remove', '../../config']), /invalid ID/, 'remove a path');
  fails(await sb.cli(['key', 'remove', shared, '--force']), /ambiguous/, 'ambiguous prefix');
  fails(await sb.cli(['key', 'remove', unknown]), /no key matches/, 'unknown ID');
  const missing = await sb.cli(['key', 'remove']);
  assertExit(missing, 1, 'remove without an ID');
  assertNoStackTrace(missing);

  fails(await sb.cli(['key', 'add', ...FAST]), /no new password given/, 'add without a new password');
  writeFileSync(sb.path('empty'), '');
  fails(await sb.cli(['key', 'add', '--new-password-file', sb.path('empty'), ...FAST]), /empty/, 'empty new password');
  fails(await sb.cli(['key', 'passwd', ...FAST], { env: { PYBACKUP_NEW_PASSWORD: '' } }), /empty/, 'empty new password (env)');
  fails(await sb.cli(['key', 'add', '--new-password-file', sb.path('nope'), ...FAST]), /cannot read new password file/, 'missing password file');
  fails(await sb.cli(['key', 'add', '--kdf-memory', 'lots'], { env: { PYBACKUP_NEW_PASSWORD: 'x' } }), /--kdf-memory/, 'bad --kdf-memory');
  fails(await sb.cli(['key', 'add', '--user', '', ...FAST], { env: { PYBACKUP_NEW_PASSWORD: 'x' } }), /username/, 'empty --user');
  const wrong = await sb.cli(['key', 'list'], { env: { PYBACKUP_PASSWORD: 'not it' } });
  assertExit(wrong, 12, 'key list with a wrong password');
  assertNoStackTrace(wrong);
  assert.deepEqual(readdirSync(join(sb.repo, 'keys')).sort(), before, 'no key file changed');

  // a new password from a command works too
  assertExit(await sb.cli(['key', 'add', '--new-password-command', 'echo from-command', ...FAST]), 0, 'add with --new-password-command');
  assertExit(await sb.cli(['snapshots'], { env: { PYBACKUP_PASSWORD: 'from-command' } }), 0, 'open with it');
});
