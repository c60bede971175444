import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { UsageError } from '../errors.ts';
import { WrongPasswordError } from './keyfile.ts';
import { AmbiguousKeyIdError, KeyNotFoundError, addKey, changePassword, listKeys, removeKey, resolveKey } from './keys.ts';
import { Repository } from './repository.ts';

const kdf = { memory: 8192, passes: 1, parallelism: 1 };

async function setup(t: TestContext): Promise<{ b: MemBackend; repo: Repository; open: (pw: string) => Promise<Repository> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-keys-'));
  let n = 0;
  const opened: Repository[] = [];
  const b = new MemBackend();
  const repo = await Repository.init(b, 'first', { kdf, catalogPath: join(dir, `${n++}.db`) });
  opened.push(repo);
  t.after(async () => {
    for (const r of opened) await r.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (pw: string): Promise<Repository> => {
    const r = await Repository.open(b, pw, { catalogPath: join(dir, `${n++}.db`) });
    opened.push(r);
    return r;
  };
  return { b, repo, open };
}

test('listKeys: every key file, the one in use marked, username/hostname overrides recorded', async (t) => {
  const { repo, open } = await setup(t);
  const id = await addKey(repo, 'second', { kdf, username: 'alice', hostname: 'laptop' });
  const keys = await listKeys(repo);
  assert.equal(keys.length, 2);
  assert.deepEqual(keys.filter((k) => k.current).map((k) => k.id), [repo.keyName]);
  const added = keys.find((k) => k.id === id);
  assert.equal(added?.file?.username, 'alice');
  assert.equal(added?.file?.hostname, 'laptop');
  assert.equal(added?.file?.kdf.memory, 8192);
  const r2 = await open('second');
  assert.equal(r2.keyName, id);
  assert.deepEqual((await listKeys(r2)).filter((k) => k.current).map((k) => k.id), [id]);
});

test('listKeys: a damaged key file is listed with its error, not thrown', async (t) => {
  const { b, repo } = await setup(t);
  const bad = 'ab'.repeat(32);
  await b.save({ type: 'key', name: bad }, Buffer.from('{not json'));
  await b.save({ type: 'key', name: 'cd'.repeat(32) }, Buffer.from('{"version":2}'));
  const keys = await listKeys(repo);
  assert.equal(keys.length, 3);
  const damaged = keys.filter((k) => !k.file);
  assert.equal(damaged.length, 2);
  assert.match(damaged.find((k) => k.id === bad)?.error ?? '', /JSON/);
});

test('addKey refuses an empty password and bad username/hostname overrides', async (t) => {
  const { repo } = await setup(t);
  await assert.rejects(addKey(repo, '', { kdf }), UsageError);
  await assert.rejects(addKey(repo, 'x', { kdf, username: '' }), UsageError);
  await assert.rejects(addKey(repo, 'x', { kdf, hostname: 'a\nb' }), UsageError);
  assert.equal((await listKeys(repo)).length, 1);
});

test('addKey refuses a 65th key file (opening tries at most 64)', async (t) => {
  const { b, repo } = await setup(t);
  for (let i = 1; i < 64; i++) await b.save({ type: 'key', name: i.toString(16).padStart(64, '0') }, Buffer.from('x'));
  await assert.rejects(addKey(repo, 'one more', { kdf }), /64 keys/);
  await removeKey(repo, '1'.padStart(64, '0'));
  await addKey(repo, 'one more', { kdf });
});

test('removeKey: not the key in use without force, never the last key, damaged ones always', async (t) => {
  const { b, repo, open } = await setup(t);
  await assert.rejects(removeKey(repo, repo.keyName), /last key/);
  await assert.rejects(removeKey(repo, repo.keyName, { force: true }), /last key/);
  const bad = '0'.repeat(64);
  await b.save({ type: 'key', name: bad }, Buffer.from('garbage'));
  // a damaged key file does not count as a usable key
  await assert.rejects(removeKey(repo, repo.keyName, { force: true }), /last key/);
  assert.equal(await removeKey(repo, '0000'), bad);

  const second = await addKey(repo, 'second', { kdf });
  await assert.rejects(removeKey(repo, repo.keyName), (e: unknown) => e instanceof UsageError && /in use/.test(e.message) && /--force/.test(e.message));
  assert.equal(await removeKey(repo, second.slice(0, 12)), second);
  await assert.rejects(open('second'), WrongPasswordError);

  const third = await addKey(repo, 'third', { kdf });
  assert.equal(await removeKey(repo, repo.keyName, { force: true }), repo.keyName);
  await assert.rejects(open('first'), WrongPasswordError);
  const r3 = await open('third');
  assert.equal(r3.keyName, third);
  await assert.rejects(removeKey(r3, third, { force: true }), /last key/);
});

test('key IDs: full ids and unique prefixes; ambiguous, unknown and malformed ones fail cleanly', async (t) => {
  const { repo } = await setup(t);
  // 17 keys: by the pigeonhole principle two share their first hex digit
  for (let i = 0; i < 16; i++) await addKey(repo, `pw${i}`, { kdf });
  const keys = await listKeys(repo);
  assert.equal(resolveKey(keys, repo.keyName).id, repo.keyName);
  assert.equal(resolveKey(keys, repo.keyName.toUpperCase()).id, repo.keyName);
  const first = keys.map((k) => k.id[0]);
  const shared = first.find((c, i) => first.indexOf(c) !== i) as string;
  assert.throws(() => resolveKey(keys, shared), AmbiguousKeyIdError);
  assert.throws(() => resolveKey(keys, shared), (e: unknown) => (e as { code?: string }).code === 'AMBIGUOUS_ID');
  const unused = '0123456789abcdef'.split('').find((c) => !first.includes(c));
  if (unused) assert.throws(() => resolveKey(keys, unused), KeyNotFoundError);
  assert.throws(() => resolveKey(keys, 'f'.repeat(64) === repo.keyName ? 'e'.repeat(64) : 'f'.repeat(64)), KeyNotFoundError);
  for (const garbage of ['', 'zz', 'abc-', '../x', 'a'.repeat(65)]) assert.throws(() => resolveKey(keys, garbage), UsageError, garbage);
  await assert.rejects(removeKey(repo, shared), AmbiguousKeyIdError);
  assert.equal((await listKeys(repo)).length, 17);
});

test('changePassword: the new password opens, the old one no longer does; crash between leaves both usable', async (t) => {
  const { b, repo, open } = await setup(t);
  const { added, removed } = await changePassword(repo, 'new', { kdf });
  assert.equal(removed, repo.keyName);
  assert.deepEqual((await listKeys(repo)).map((k) => k.id), [added]);
  await assert.rejects(open('first'), WrongPasswordError);
  const r = await open('new');
  assert.equal(r.keyName, added);
  assert.deepEqual(r.key.encrypt, repo.key.encrypt, 'the master key is unchanged');

  // the step order: a failure removing the old key (a crash) leaves both keys usable
  const failing = Object.create(r) as Repository;
  Object.defineProperty(failing, 'backend', {
    value: new Proxy(b, {
      get: (target, p) => {
        if (p === 'remove') return () => Promise.reject(new Error('crash'));
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }),
  });
  await assert.rejects(changePassword(failing, 'newer', { kdf }), /crash/);
  assert.equal((await open('new')).keyName, added);
  assert.notEqual((await open('newer')).keyName, added);
});
