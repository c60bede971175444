import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { ContentReader } from '../../browse/content.ts';
import { RepoBuilder } from '../../browse/test-fixture.ts';
import { TreeStore } from '../../browse/tree-store.ts';
import { Vfs } from '../../browse/vfs.ts';
import { listSnapshots } from '../../repository/snapshots.ts';
import { type RequestEvent, type RunningServer, startWebdav } from './server.ts';

let b: RepoBuilder;
let server: RunningServer;
let reader: ContentReader;
const chunks = Array.from({ length: 8 }, () => randomBytes(10_000));
const whole = Buffer.concat(chunks);
const events: RequestEvent[] = [];

before(async () => {
  b = await RepoBuilder.create();
  await b.snapshot(b.tree([b.file('big.bin', chunks), b.symlink('ln', 'big.bin'), b.dir('sub', [b.file('x.txt', ['x'])])]), { time: '2026-11-24T22:30:05Z' });
  const vfs = new Vfs(new TreeStore(b.repo), await listSnapshots(b.repo));
  reader = new ContentReader(b.repo);
  server = await startWebdav({ vfs: async () => vfs, reader, loopbackOnly: true, onRequest: (e) => events.push(e) }, '127.0.0.1', 0);
});
after(async () => {
  await server.close();
  await b.done();
});

function call(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('ranged GET loads only the blobs the range touches', async () => {
  const before = reader.stats.blobsLoaded;
  const r = await call('GET', '/latest/big.bin', { Range: 'bytes=25000-25009' });
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], `bytes 25000-25009/${whole.length}`);
  assert.ok(r.body.equals(whole.subarray(25_000, 25_010)));
  assert.equal(reader.stats.blobsLoaded - before, 1);
  const full = await call('GET', '/latest/big.bin');
  assert.equal(full.status, 200);
  assert.ok(full.body.equals(whole));
  assert.equal(full.headers['accept-ranges'], 'bytes');
  const suffix = await call('GET', '/latest/big.bin', { Range: 'bytes=-5' });
  assert.ok(suffix.body.equals(whole.subarray(-5)));
  const bad = await call('GET', '/latest/big.bin', { Range: `bytes=${whole.length}-` });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${whole.length}`);
  const stale = await call('GET', '/latest/big.bin', { Range: 'bytes=0-1', 'If-Range': '"other"' });
  assert.equal(stale.status, 200, 'If-Range with another ETag: the whole file');
  const head = await call('HEAD', '/latest/big.bin');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(whole.length));
  assert.equal(head.body.length, 0);
  const notModified = await call('GET', '/latest/big.bin', { 'If-None-Match': String(head.headers.etag) });
  assert.equal(notModified.status, 304);
});

test('PROPFIND depths, OPTIONS, writes, unknown methods, symlinks hidden, Host check', async () => {
  const d1 = await call('PROPFIND', '/latest/', { Depth: '1' });
  assert.equal(d1.status, 207);
  const xml = d1.body.toString();
  assert.match(xml, /<D:href>\/latest\/big.bin<\/D:href>/);
  assert.match(xml, /<D:href>\/latest\/sub\/<\/D:href>/);
  assert.doesNotMatch(xml, /latest\/ln/, 'symlinks are not served');
  assert.equal((await call('PROPFIND', '/latest/ln', { Depth: '0' })).status, 404);
  assert.equal((xml.match(/<D:response>/g) ?? []).length, 3);
  const d0 = await call('PROPFIND', '/latest/sub/x.txt', { Depth: '0' });
  assert.match(d0.body.toString(), /<D:getcontentlength>1<\/D:getcontentlength>/);
  const inf = await call('PROPFIND', '/', { Depth: 'infinity' });
  assert.equal(inf.status, 403);
  assert.match(inf.body.toString(), /propfind-finite-depth/);
  assert.equal((await call('PROPFIND', '/')).status, 403, 'no Depth means infinity');
  const opt = await call('OPTIONS', '/');
  assert.equal(opt.headers.dav, '1');
  assert.equal(opt.headers.allow, 'OPTIONS, GET, HEAD, PROPFIND');
  for (const m of ['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH']) assert.equal((await call(m, '/latest/big.bin')).status, 403, m);
  for (const m of ['LOCK', 'UNLOCK']) assert.equal((await call(m, '/latest/big.bin')).status, 405, m);
  assert.equal((await call('SEARCH', '/')).status, 501);
  assert.equal((await call('GET', '/latest/%2e%2e/latest')).status, 400);
  assert.equal((await call('GET', '/nothing')).status, 404);
  assert.equal((await call('GET', '/', { Host: 'evil.example:80' })).status, 403, 'DNS rebinding: foreign Host refused');
  const html = await call('GET', '/latest/');
  assert.match(html.headers['content-type'] as string, /text\/html/);
  assert.match(html.body.toString(), /href="\/latest\/sub\/"/);
  assert.ok(events.some((e) => e.method === 'PROPFIND' && e.status === 207 && e.bytes > 0));
});
