import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { S3_KEY, S3_SECRET, type S3TestServer, startS3Server } from '../../../test/support/s3-server.ts';
import { AbortedError } from '../../errors.ts';
import { NotFoundError, PermanentError, RepoExistsError, TransientError } from '../backend.ts';
import { backendContract } from '../contract/contract.ts';
import { withRetry } from '../retry.ts';
import { S3Backend, type S3BackendOptions } from './s3-backend.ts';

let server: S3TestServer;
let n = 0;
const home = mkdtempSync(join(tmpdir(), 'pyb-s3-home-'));
const ENV = { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET, HOME: home };

before(async () => {
  server = await startS3Server({ buckets: ['shared'] });
});
after(async () => {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
});

function backend(path: string, o: S3BackendOptions = {}): S3Backend {
  return new S3Backend(`s3:${server.endpoint}/${path}`, { env: ENV, ...o });
}
const id = (): string => randomBytes(32).toString('hex');

// A fresh bucket (created by create()) or a fresh prefix in an existing bucket; small pages so listings follow
// continuation tokens.
backendContract('s3 (new bucket)', async () => ({ backend: backend(`bucket-${++n}`, { listPageSize: 70 }), dispose: async () => {} }));
backendContract('s3 (prefix)', async () => ({ backend: backend(`shared/repos/r${++n}`, { listPageSize: 70 }), dispose: async () => {} }));

test('s3: signatures are verified: a wrong secret is a PermanentError naming SignatureDoesNotMatch, without the secret', async () => {
  const secret = 'not-the-right-secret-but-long';
  const b = new S3Backend(`s3:${server.endpoint}/shared`, { env: { ...ENV, AWS_SECRET_ACCESS_KEY: secret } });
  try {
    const err = await b.load({ type: 'config', name: '' }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof PermanentError, String(err));
    assert.match(err.message, /403 SignatureDoesNotMatch/);
    assert.match(err.message, /secret access key/);
    assert.doesNotMatch(err.message, new RegExp(secret));
  } finally {
    await b.close();
  }
  const wrongKey = new S3Backend(`s3:${server.endpoint}/shared`, { env: { ...ENV, AWS_ACCESS_KEY_ID: 'NOBODY' } });
  await assert.rejects(wrongKey.stat({ type: 'config', name: '' }), (e: Error) => e instanceof PermanentError && /403/.test(e.message));
  await wrongKey.close();
});

test('s3: a missing bucket is a clear PermanentError; create() makes it', async () => {
  const b = backend('no-such-bucket-yet/p');
  try {
    await assert.rejects(b.load({ type: 'config', name: '' }), (e: Error) => e instanceof PermanentError && /bucket "no-such-bucket-yet" does not exist/.test(e.message));
    await b.create();
    await assert.rejects(b.load({ type: 'config', name: '' }), NotFoundError);
  } finally {
    await b.close();
  }
});

test('s3: create refuses an existing repository and foreign objects, accepts an empty layout', async () => {
  const b = backend('shared/create-test');
  const foreign = backend('shared/create-test/inner');
  try {
    await b.create();
    await b.save({ type: 'key', name: id() }, Buffer.from('k'));
    await b.create(); // only our directories: fine (an interrupted init)
    await b.save({ type: 'config', name: '' }, Buffer.from('c'));
    await assert.rejects(b.create(), RepoExistsError);
    const c = backend('shared/create-test2');
    await new S3Backend(`s3:${server.endpoint}/shared/create-test2/other`, { env: ENV }).save({ type: 'config', name: '' }, Buffer.from('x'));
    await assert.rejects(c.create(), /not empty/);
    await c.close();
  } finally {
    await b.close();
    await foreign.close();
  }
});

test('s3: objects are named <prefix>/<restic layout>; foreign keys under the prefix are not listed', async () => {
  const b = backend('shared/layout/deep');
  try {
    await b.create();
    const pack = id();
    await b.save({ type: 'pack', name: pack }, Buffer.from('p'));
    await b.save({ type: 'snapshot', name: id() }, Buffer.from('s'));
    await b.save({ type: 'config', name: '' }, Buffer.from('c'));
    const puts = server.log.filter((l) => l.method === 'PUT' && l.path.startsWith('/shared/layout/deep/')).map((l) => l.path);
    assert.ok(puts.includes(`/shared/layout/deep/data/${pack.slice(0, 2)}/${pack}`), puts.join('\n'));
    assert.ok(puts.some((p) => /^\/shared\/layout\/deep\/snapshots\/[0-9a-f]{64}$/.test(p)));
    assert.ok(puts.includes('/shared/layout/deep/config'));
    // junk a person or another tool left there
    const raw = new S3Backend(`s3:${server.endpoint}/shared/layout/deep/data`, { env: ENV });
    await raw.save({ type: 'config', name: '' }, Buffer.from('junk'));
    await raw.close();
    const listed: string[] = [];
    for await (const f of b.list('pack')) listed.push(f.name);
    assert.deepEqual(listed, [pack]);
  } finally {
    await b.close();
  }
});

test('s3: 503 SlowDown and 500 are transient, retried by the retry wrapper; 400s are permanent', async () => {
  const b = backend('shared/faults');
  const name = id();
  try {
    await b.create();
    await b.save({ type: 'index', name }, Buffer.from('hello'));
    server.faults.push({ status: 503, code: 'SlowDown', times: 1 });
    await assert.rejects(b.load({ type: 'index', name }), (e: Error) => e instanceof TransientError && /503 SlowDown/.test(e.message));
    server.faults.push({ status: 503, code: 'SlowDown', times: 2 }, { status: 500, code: 'InternalError', times: 1 });
    const retried: string[] = [];
    const r = withRetry({ baseMs: 1, onRetry: (i) => retried.push((i.error as Error).message) })(b);
    assert.equal(Buffer.from(await r.load({ type: 'index', name })).toString(), 'hello');
    assert.equal(retried.length, 3);
    server.faults.push({ status: 400, code: 'InvalidArgument', times: 1 });
    await assert.rejects(b.stat({ type: 'index', name }), PermanentError);
  } finally {
    server.faults.length = 0;
    await b.close();
  }
});

test('s3: a file source is streamed with a fixed Content-Length and its real SHA-256 (the server rejects anything else)', async () => {
  const b = backend('shared/stream');
  const dir = mkdtempSync(join(tmpdir(), 'pyb-s3-src-'));
  try {
    await b.create();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, 'pack');
    writeFileSync(path, data);
    const name = id();
    await b.save({ type: 'pack', name }, { path, size: data.length });
    assert.equal((await b.stat({ type: 'pack', name })).size, data.length);
    assert.ok(Buffer.from(await b.load({ type: 'pack', name })).equals(data));
    await assert.rejects(b.save({ type: 'pack', name: id() }, { path, size: data.length + 1 }), /expected/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await b.close();
  }
});

test('s3: an abort stops a request in flight; a dead server is transient', async () => {
  const b = backend('shared/abort');
  try {
    await b.create();
    const ac = new AbortController();
    const p = b.save({ type: 'pack', name: id() }, randomBytes(8 << 20), { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, AbortedError);
  } finally {
    await b.close();
  }
  const dead = new S3Backend('s3:http://127.0.0.1:1/bucket', { env: ENV });
  await assert.rejects(dead.stat({ type: 'config', name: '' }), (e: Error) => e instanceof TransientError && /ECONNREFUSED/.test(e.message));
  await dead.close();
});

test('s3: location is shown without credentials; bad locations and settings are usage errors', async () => {
  const b = backend('shared/x/y');
  assert.equal(b.location, `s3:${server.endpoint}/shared/x/y`);
  await b.close();
  assert.throws(() => new S3Backend('s3:https://AKID:sEcReT42@host/bucket', { env: ENV }), (e: Error) => !/sEcReT42/.test(e.message) && /credentials/.test(e.message));
  assert.throws(() => new S3Backend(`s3:${server.endpoint}/shared`, { env: { ...ENV, PYBACKUP_S3_PATH_STYLE: 'maybe' } }), /PYBACKUP_S3_PATH_STYLE/);
  assert.throws(() => new S3Backend(`s3:${server.endpoint}/shared`, { env: { HOME: home } }), /no S3 credentials/);
});

test('s3: listings follow continuation tokens page by page', async () => {
  const b = backend('shared/pages', { listPageSize: 2 });
  try {
    await b.create();
    const names = Array.from({ length: 5 }, id).sort();
    for (const name of names) await b.save({ type: 'index', name }, Buffer.from(name));
    const before = server.log.length;
    const listed: string[] = [];
    for await (const f of b.list('index')) listed.push(f.name);
    assert.deepEqual(listed.sort(), names);
    assert.equal(server.log.slice(before).filter((l) => l.method === 'GET' && l.path === '/shared').length, 3);
  } finally {
    await b.close();
  }
});
