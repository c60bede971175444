/**
 * A real sshd whose connections drop mid-call: the call fails with TransientError, the next one redials; through
 * the retry wrapper a save and a listing of a large directory come out whole (each name once). Also: permission
 * denied is a PermanentError, posix-rename replaces the config atomically, many calls in flight at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Sshd, startSshd } from '../../../test/servers/sshd.ts';
import { type Backend, NotFoundError, PermanentError, TransientError } from '../backend.ts';
import { type RetryInfo, withRetry } from '../retry.ts';
import { sftpConfigFrom } from './config.ts';
import { SftpBackend } from './sftp-backend.ts';

let sshd: Sshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd?.stop();
});

let n = 0;
async function fresh(o: { user?: string; dir?: string } = {}): Promise<{ backend: SftpBackend; dir: string }> {
  const dir = o.dir ?? join(sshd.dir, `repo-${++n}`);
  const loc = `sftp://${o.user ?? sshd.user}@127.0.0.1:${sshd.port}/${dir}`;
  const backend = new SftpBackend(sftpConfigFrom(loc, { HOME: sshd.dir, ...sshd.env } as NodeJS.ProcessEnv));
  if (!o.dir) await backend.create();
  return { backend, dir };
}
const id = (): string => randomBytes(32).toString('hex');

test('a connection dropped during a save: TransientError, then the next call redials', async () => {
  const { backend } = await fresh();
  try {
    const name = id();
    const big = randomBytes(96 << 20);
    const saving = backend.save({ type: 'pack', name }, big);
    setTimeout(() => sshd.dropConnections(), 30);
    await assert.rejects(saving, TransientError);
    await backend.save({ type: 'pack', name }, big.subarray(0, 1 << 20));
    assert.equal((await backend.stat({ type: 'pack', name })).size, 1 << 20);
  } finally {
    await backend.close();
  }
});

test('through the retry wrapper: a save and a ranged load survive dropped connections', async () => {
  const { backend: raw } = await fresh();
  const retries: RetryInfo[] = [];
  const b: Backend = withRetry({ baseMs: 10, onRetry: (r) => retries.push(r) })(raw);
  try {
    const name = id();
    const data = randomBytes(64 << 20);
    const saving = b.save({ type: 'pack', name }, data);
    setTimeout(() => sshd.dropConnections(), 30);
    await saving;
    const loading = b.load({ type: 'pack', name }, { offset: 1000, length: 60 << 20 });
    setTimeout(() => sshd.dropConnections(), 30);
    assert.ok(Buffer.from(await loading).equals(data.subarray(1000, 1000 + (60 << 20))));
    assert.ok(retries.length >= 1, 'at least one call was retried');
  } finally {
    await b.close();
  }
});

test('a listing of a large directory restarted after a drop yields every name exactly once', async () => {
  const { backend: raw, dir } = await fresh();
  const names = Array.from({ length: 3000 }, id);
  for (const x of names) writeFileSync(join(dir, 'index', x), x);
  writeFileSync(join(dir, 'index', '.tmp-1234'), 'temp files are not listed');
  let retried = 0;
  const b = withRetry({ baseMs: 10, onRetry: () => retried++ })(raw);
  try {
    const seen: string[] = [];
    for await (const f of b.list('index')) {
      seen.push(f.name);
      if (seen.length === 500) sshd.dropConnections();
    }
    assert.equal(retried, 1);
    assert.equal(seen.length, names.length);
    assert.deepEqual(new Set(seen), new Set(names));
  } finally {
    await b.close();
  }
});

test('pack listing over 256 data/ subdirectories, with many saves and loads in flight', async () => {
  const { backend } = await fresh();
  try {
    const blobs = new Map(Array.from({ length: 200 }, () => [id(), randomBytes(1000 + Math.floor(Math.random() * 300_000))] as const));
    await Promise.all([...blobs].map(([name, d]) => backend.save({ type: 'pack', name }, d)));
    const listed = new Map<string, number>();
    for await (const f of backend.list('pack')) listed.set(f.name, f.size);
    assert.deepEqual(listed, new Map([...blobs].map(([k, v]) => [k, v.length])));
    const back = await Promise.all([...blobs].map(async ([name, d]) => Buffer.from(await backend.load({ type: 'pack', name })).equals(d)));
    assert.ok(back.every(Boolean));
  } finally {
    await backend.close();
  }
});

test('cached read handles: ranged loads after a remove are NotFound, after a re-save they read the new file', async () => {
  const { backend } = await fresh();
  try {
    const name = id();
    const a = randomBytes(50_000);
    await backend.save({ type: 'pack', name }, a);
    assert.ok(Buffer.from(await backend.load({ type: 'pack', name }, { offset: 10, length: 100 })).equals(a.subarray(10, 110)));
    await backend.remove({ type: 'pack', name });
    await assert.rejects(backend.load({ type: 'pack', name }, { offset: 10, length: 100 }), NotFoundError);
    const b = randomBytes(50_000);
    await backend.save({ type: 'pack', name }, b);
    assert.ok(Buffer.from(await backend.load({ type: 'pack', name }, { offset: 10, length: 100 })).equals(b.subarray(10, 110)));
    // more packs than the cache holds, loaded concurrently: evicted handles are closed only when unused
    const many = Array.from({ length: 80 }, () => [id(), randomBytes(20_000)] as const);
    await Promise.all(many.map(([n, d]) => backend.save({ type: 'pack', name: n }, d)));
    for (let round = 0; round < 3; round++) {
      const ok = await Promise.all(many.map(async ([n, d]) => Buffer.from(await backend.load({ type: 'pack', name: n }, { offset: 5, length: 19_000 })).equals(d.subarray(5, 19_005))));
      assert.ok(ok.every(Boolean));
    }
  } finally {
    await backend.close();
  }
});

test('posix-rename replaces an existing config atomically; no temp files remain', async () => {
  const { backend, dir } = await fresh();
  try {
    await backend.save({ type: 'config', name: '' }, Buffer.from('one'));
    await backend.save({ type: 'config', name: '' }, Buffer.from('two!'));
    assert.equal(Buffer.from(await backend.load({ type: 'config', name: '' })).toString(), 'two!');
    assert.deepEqual(readdirSync(dir).filter((x) => x.startsWith('.')), []);
  } finally {
    await backend.close();
  }
});

test('permission denied on the server: PermanentError with a clear message', async () => {
  const dir = join(sshd.dir, 'readonly');
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'config'), 'x', { mode: 0o600 });
  const { backend } = await fresh({ user: 'nobody', dir });
  try {
    const e = await backend.save({ type: 'key', name: id() }, Buffer.from('k')).catch((x: unknown) => x);
    assert.ok(e instanceof PermanentError, String(e));
    assert.match(e.message, /permission denied by the SFTP server/);
    await assert.rejects(backend.load({ type: 'config', name: '' }), (x: unknown) => x instanceof PermanentError && /permission denied/.test(x.message));
  } finally {
    await backend.close();
  }
});
