/** The REST backend against a real restic REST server: `rclone serve restic`, plain and --append-only. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RcloneServe, startRcloneServe } from '../../../test/e2e/rclone-serve.ts';
import { type Backend, NotFoundError, PermanentError, RepoExistsError } from '../backend.ts';
import { backendContract } from '../contract/contract.ts';
import { Http1Transport } from './http1-transport.ts';
import { RestBackend } from './rest-backend.ts';
import { parseRestLocation } from './rest-location.ts';

let dir = '';
let plain: RcloneServe;
let appendOnly: RcloneServe;
let authed: RcloneServe;
const PASS = 's3cret/p@ss:word';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pyb-rest-'));
  [plain, appendOnly, authed] = await Promise.all([
    startRcloneServe(join(dir, 'plain')),
    startRcloneServe(join(dir, 'append-only'), { appendOnly: true }),
    startRcloneServe(join(dir, 'authed'), { user: 'alice', pass: PASS }),
  ]);
});

after(async () => {
  await Promise.all([plain?.stop(), appendOnly?.stop(), authed?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** A backend on a fresh sub-path of the server (rest servers serve many repositories by path). */
function restBackend(server: RcloneServe, o: { userinfo?: string; sub?: string } = {}): Backend {
  const url = server.url.replace('http://', `http://${o.userinfo ? `${o.userinfo}@` : ''}`);
  const loc = parseRestLocation(`rest:${url}${o.sub ?? randomBytes(6).toString('hex')}/`, {});
  return new RestBackend({
    transport: new Http1Transport(loc.url, { maxSockets: 5, ...(loc.authorization ? { authorization: loc.authorization } : {}) }),
    basePath: loc.url.pathname,
    location: loc.display,
  });
}

backendContract('rest', async () => ({ backend: restBackend(plain), dispose: async () => {} }));

const id = (): string => randomBytes(32).toString('hex');

test('rest: create refuses an existing repository; a missing one is NotFound', async () => {
  const sub = randomBytes(6).toString('hex');
  const b = restBackend(plain, { sub });
  try {
    await assert.rejects(b.load({ type: 'config', name: '' }), NotFoundError);
    await b.create();
    await b.save({ type: 'config', name: '' }, Buffer.from('cfg'));
    await assert.rejects(restBackend(plain, { sub }).create(), RepoExistsError);
  } finally {
    await b.close();
  }
});

test('rest --append-only: writes and reads work, deletes fail with a clear PermanentError, locks may go', async () => {
  const b = restBackend(appendOnly);
  try {
    await b.create();
    await b.save({ type: 'config', name: '' }, Buffer.from('config-1'));
    const pack = id();
    const data = randomBytes(50_000);
    await b.save({ type: 'pack', name: pack }, data);
    await b.save({ type: 'pack', name: pack }, data); // the same file again (a retry): accepted
    assert.deepEqual(Buffer.from(await b.load({ type: 'pack', name: pack }, { offset: 10, length: 100 })), data.subarray(10, 110));
    assert.equal((await b.stat({ type: 'pack', name: pack })).size, 50_000);
    const listed: string[] = [];
    for await (const f of b.list('pack')) listed.push(f.name);
    assert.deepEqual(listed, [pack]);

    await assert.rejects(b.remove({ type: 'pack', name: pack }), (e: unknown) => e instanceof PermanentError && /append-only/.test(e.message));
    await assert.rejects(b.remove({ type: 'snapshot', name: id() }), /append-only/);
    await assert.rejects(b.save({ type: 'config', name: '' }, Buffer.from('config-2')), (e: unknown) => e instanceof PermanentError && /append-only/.test(e.message));
    const lock = id();
    await b.save({ type: 'lock', name: lock }, Buffer.from('lock'));
    await b.remove({ type: 'lock', name: lock });
    await assert.rejects(b.stat({ type: 'lock', name: lock }), NotFoundError);
  } finally {
    await b.close();
  }
});

test('rest: credentials from the URL work; wrong ones are a PermanentError that never shows the password', async () => {
  const good = restBackend(authed, { userinfo: `alice:${encodeURIComponent(PASS)}` });
  try {
    assert.doesNotMatch(good.location, /s3cret/);
    await good.create();
    await good.save({ type: 'key', name: id() }, Buffer.from('k'));
  } finally {
    await good.close();
  }
  for (const userinfo of ['alice:wrong-s3cret', undefined]) {
    const bad = restBackend(authed, userinfo ? { userinfo } : {});
    try {
      const e = await bad.load({ type: 'config', name: '' }).then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof PermanentError, String(e));
      assert.match(e.message, /refused the credentials \(401 Unauthorized\)/);
      assert.doesNotMatch(e.message, /s3cret/);
    } finally {
      await bad.close();
    }
  }
});

test('rest: credentials from the environment, used only where the URL has none', () => {
  const env = { PYBACKUP_REST_USERNAME: 'bob', PYBACKUP_REST_PASSWORD: 'envpass' };
  const a = parseRestLocation('rest:http://127.0.0.1:8000/repo', env);
  assert.equal(a.authorization, `Basic ${Buffer.from('bob:envpass').toString('base64')}`);
  assert.equal(a.display, 'rest:http://bob@127.0.0.1:8000/repo/');
  const b = parseRestLocation('rest:http://carol:urlpass@127.0.0.1:8000/', env);
  assert.equal(b.authorization, `Basic ${Buffer.from('carol:urlpass').toString('base64')}`);
  assert.equal(b.display, 'rest:http://carol@127.0.0.1:8000/');
});

test('rest: an unreachable server is a TransientError (the retry wrapper retries it), not a hang', async () => {
  const b = restBackend({ ...plain, url: 'http://127.0.0.1:1/' });
  try {
    await assert.rejects(b.stat({ type: 'config', name: '' }), (e: unknown) => (e as { code?: string }).code === 'TRANSIENT' && /ECONNREFUSED/.test(String(e)));
  } finally {
    await b.close();
  }
});
