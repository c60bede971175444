import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ContentReader } from '../../browse/content.ts';
import { RepoBuilder } from '../../browse/test-fixture.ts';
import { TreeStore } from '../../browse/tree-store.ts';
import { isLoopback, startWebUi, type WebUi } from './server.ts';

let b: RepoBuilder;
let ui: WebUi;
let snap: string;
const ac = new AbortController();

before(async () => {
  b = await RepoBuilder.create();
  const odd = Buffer.concat([Buffer.from('<img src=x onerror=alert(1)>'), Buffer.from([0xff, 0x0a])]);
  const data = b.dir('data', [b.file('a.txt', ['one\n', 'two\n']), b.file(odd, ['x']), b.dir('sub', [b.file('c.txt', ['c'])])]);
  snap = await b.snapshot(b.tree([data]), { host: 'box', tags: ['daily'] });
  await b.snapshot(b.tree([data]), { host: 'other' });
  const store = new TreeStore(b.repo);
  ui = await startWebUi({ repo: b.repo, store, reader: new ContentReader(b.repo), location: '/repo', lastCheck: () => '2024-05-01T10:00:00Z', signal: ac.signal }, { token: 'tok-123' });
});

after(async () => {
  ac.abort();
  await ui.close();
  await b.done();
});

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(path: string, body: string, extra: Record<string, string>): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ui.port, path, method: 'POST', headers: { authorization: 'Bearer tok-123', 'content-type': 'application/x-www-form-urlencoded', host: `127.0.0.1:${ui.port}`, ...extra } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(path: string, headers: Record<string, string> = { authorization: 'Bearer tok-123' }, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ui.port, path, method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the URL holds the token; loopback detection', () => {
  assert.equal(ui.url, `http://127.0.0.1:${ui.port}/?token=tok-123`);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.2'));
});

test('no token: 401; the query token sets the cookie and redirects without it', async () => {
  assert.equal((await get('/', {})).status, 401);
  const r = await get('/snapshots?host=box&token=tok-123', {});
  assert.equal(r.status, 303);
  assert.equal(r.headers.location, '/snapshots?host=box');
  assert.match(String(r.headers['set-cookie']), /pybackup_token=tok-123; HttpOnly; SameSite=Strict/);
  assert.equal((await get('/', { cookie: 'pybackup_token=tok-123' })).status, 200);
});

test('routing: 404, 405, path tricks, foreign Host', async () => {
  assert.equal((await get('/nope')).status, 404);
  assert.equal((await get('/restore')).status, 405);
  assert.equal((await get('/browse/../x')).status, 400);
  assert.equal((await get('/browse%2F..')).status, 400);
  assert.equal((await get('/', { authorization: 'Bearer tok-123', host: 'evil.example' })).status, 421);
});

test('overview and snapshot filters', async () => {
  const o = await get('/');
  assert.equal(o.status, 200);
  assert.match(o.body, new RegExp(b.repo.config.id));
  assert.match(o.body, /2024-05-01 10:00:00/);
  assert.match(o.headers['content-security-policy'] as string, /default-src 'none'/);
  const s = await get('/snapshots?host=box');
  assert.match(s.body, /1 of 2 snapshots/);
  assert.match(s.body, /daily/);
});

test('odd names are escaped; a bad snapshot or path is a clear 4xx page', async () => {
  const r = await get(`/browse?snap=${snap}&p=/data`);
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.body, /<img/);
  assert.match(r.body, /&lt;img src=x onerror=alert\(1\)&gt;\\xff\\n/);
  assert.equal((await get(`/browse?snap=${snap}&p=/nope`)).status, 404);
  assert.equal((await get('/browse?snap=ffffffff')).status, 404);
  assert.equal((await get('/browse?snap=zz')).status, 400);
  assert.equal((await get(`/file?snap=${snap}&p=/data/a.txt%00`)).status, 400);
  const f = await get(`/file?snap=${snap}&p=${encodeURIComponent('/data/<img src=x onerror=alert(1)>\\xff\\n')}`);
  assert.equal(f.status, 200);
  assert.match(f.body, /Content blobs<\/dt><dd>1/);
});

test('downloads: a file with its size, a directory as zip', async () => {
  const f = await get(`/download?snap=${snap}&p=/data/a.txt`);
  assert.equal(f.body, 'one\ntwo\n');
  assert.equal(f.headers['content-length'], '8');
  assert.match(String(f.headers['content-disposition']), /filename\*=UTF-8''a\.txt/);
  const h = await get(`/download?snap=${snap}&p=/data/a.txt`, { authorization: 'Bearer tok-123' }, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '8');
  assert.equal(h.body, '');
  const z = await get(`/download?snap=${snap}&p=/data/sub`);
  assert.equal(z.headers['content-type'], 'application/zip');
  assert.match(String(z.headers['content-disposition']), /sub\.zip/);
});

test('restore: a POST without the form token is refused; unknown job 404 (JSON for the API)', async () => {
  assert.equal((await get('/restore', { authorization: 'Bearer tok-123', 'content-type': 'application/x-www-form-urlencoded' }, 'POST')).status, 403);
  const j = await get('/api/restore?id=nope');
  assert.equal(j.status, 404);
  assert.deepEqual(JSON.parse(j.body), { error: 'no such restore job (jobs are forgotten when the server stops)' });
});

test('restore of a single file through the form, then its status', async () => {
  const target = join(b.tmp, 'restored');
  const form = new URLSearchParams({ csrf: 'tok-123', snap, p: '/data/a.txt', target, overwrite: 'always' }).toString();
  const r = await send('/restore', form, { origin: `http://127.0.0.1:${ui.port}` });
  assert.equal(r.status, 303, r.body);
  const id = new URL(String(r.headers.location), 'http://x').searchParams.get('id') as string;
  let st: Record<string, unknown> = {};
  for (let i = 0; i < 200; i++) {
    st = JSON.parse((await get(`/api/restore?id=${id}`)).body) as Record<string, unknown>;
    if (st.state !== 'running') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(st.state, 'done', JSON.stringify(st));
  assert.equal(readFileSync(join(target, 'a.txt'), 'utf8'), 'one\ntwo\n');
  const page = await get(`/restore/job?id=${id}`);
  assert.match(page.body, /Restored 1 files/);
  assert.doesNotMatch(page.body, /<script>/, 'no polling script once done');
  assert.equal((await send('/restore', form.replace(/target=[^&]*/, 'target=rel'), {})).status, 400);
});

test('search: glob and a bad regular expression', async () => {
  const r = await get('/search?q=c.txt');
  assert.match(r.body, /2 matches in 2 snapshots/);
  const bad = await get(`/search?q=${encodeURIComponent('re:(')}`);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /invalid regular expression/);
});
