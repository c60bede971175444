/** The REST backend against a scripted HTTP server: status mapping, broken connections, stalls, protocol variants. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { type Socket, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { NotFoundError, PermanentError } from '../backend.ts';
import { isTransient } from '../retry.ts';
import { Http1Transport } from './http1-transport.ts';
import { RestBackend } from './rest-backend.ts';
import { parseRestLocation } from './rest-location.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
let handler: Handler = (_q, res) => res.end();
let server: Server;
let port = 0;

before(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(parts)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function backend(o: { idleTimeoutMs?: number; userinfo?: string } = {}): RestBackend {
  const loc = parseRestLocation(`rest:http://${o.userinfo ? `${o.userinfo}@` : ''}127.0.0.1:${port}/repo/`, {});
  return new RestBackend({
    transport: new Http1Transport(loc.url, { maxSockets: 2, ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}), ...(loc.authorization ? { authorization: loc.authorization } : {}) }),
    basePath: loc.url.pathname,
    location: loc.display,
  });
}

const name = randomBytes(32).toString('hex');
const pack = { type: 'pack', name } as const;

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof Error, `expected a failure, got ${String(e)}`);
  return e;
}

test('statuses map to the contract: 404 NotFound, 5xx/408/429 transient, other 4xx permanent with the server text', async () => {
  const b = backend();
  try {
    for (const [status, check] of [
      [404, (e: Error) => e instanceof NotFoundError],
      [500, isTransient],
      [503, isTransient],
      [408, isTransient],
      [429, isTransient],
      [400, (e: Error) => e instanceof PermanentError && /400 Bad Request: something is off/.test(e.message)],
      [416, (e: Error) => e instanceof PermanentError],
    ] as const) {
      handler = (_q, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end('something is off\nsecond line');
      };
      const e = await failure(b.load(pack));
      assert.ok(check(e), `${status}: ${e.name}: ${e.message}`);
    }
  } finally {
    await b.close();
  }
});

test('a connection cut mid-body, or a server that goes quiet, is transient', async () => {
  const b = backend({ idleTimeoutMs: 300 });
  try {
    handler = (_q, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const cut = await failure(b.load(pack));
    assert.ok(isTransient(cut), `${cut.name}: ${cut.message}`);

    handler = (_q, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000)); // and then nothing
    };
    const t = Date.now();
    const quiet = await failure(b.load(pack));
    assert.ok(isTransient(quiet), `${quiet.name}: ${quiet.message}`);
    assert.match(quiet.message, /no data moved/);
    assert.ok(Date.now() - t < 5000);
  } finally {
    await b.close();
  }
});

test('an abort ends a request at once', async () => {
  const b = backend();
  try {
    handler = () => {}; // never answers
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const e = await failure(b.load(pack, undefined, { signal: ac.signal }));
    assert.equal((e as { code?: string }).code, 'ABORTED');
  } finally {
    await b.close();
  }
});

test('v1 listings (names only) get their sizes from HEAD; junk names are skipped; bad JSON is an error', async () => {
  const b = backend();
  const other = randomBytes(32).toString('hex');
  try {
    handler = (req, res) => {
      if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/vnd.x.restic.rest.v1' }).end(JSON.stringify([name, 'tmp-123', other]));
      const size = req.url?.endsWith(name) ? 11 : 22;
      res.writeHead(200, { 'content-length': String(size) }).end();
    };
    const got = new Map<string, number>();
    for await (const f of b.list('index')) got.set(f.name, f.size);
    assert.deepEqual(got, new Map([[name, 11], [other, 22]]));

    handler = (_q, res) => res.writeHead(200).end('[{"name": "abc"');
    await assert.rejects(async () => {
      for await (const _ of b.list('index')) void _;
    }, /invalid listing/);
  } finally {
    await b.close();
  }
});

test('a server that ignores Range still yields exactly the range', async () => {
  const b = backend();
  const data = randomBytes(5000);
  try {
    handler = (_q, res) => res.writeHead(200, { 'content-length': '5000' }).end(data);
    assert.deepEqual(Buffer.from(await b.load(pack, { offset: 100, length: 200 })), data.subarray(100, 300));
    await assert.rejects(b.load(pack, { offset: 4900, length: 200 }), /short read/);
  } finally {
    await b.close();
  }
});

test('saves send a fixed Content-Length, and the credentials, but the password appears in no message', async () => {
  const b = backend({ userinfo: 'me:hunter2-secret' });
  const data = randomBytes(300_000);
  let seen: { length?: string | undefined; auth?: string | undefined; got?: number } = {};
  try {
    handler = (req, res, body) => {
      seen = { length: req.headers['content-length'], auth: req.headers.authorization, got: body.length };
      res.writeHead(401).end('Unauthorized');
    };
    const e = await failure(b.save(pack, data));
    assert.equal(seen.length, '300000');
    assert.equal(seen.got, 300_000);
    assert.equal(seen.auth, `Basic ${Buffer.from('me:hunter2-secret').toString('base64')}`);
    assert.doesNotMatch(`${e.message} ${b.location}`, /hunter2/);
    assert.match(e.message, /refused the credentials/);
  } finally {
    await b.close();
  }
  const down = backend({ userinfo: 'me:hunter2-secret' });
  server.closeAllConnections();
  try {
    handler = (req) => req.socket.destroy();
    const e = await failure(down.stat(pack));
    assert.ok(isTransient(e));
    assert.doesNotMatch(`${e.message} ${String((e as { cause?: unknown }).cause)}`, /hunter2/);
  } finally {
    await down.close();
  }
});

test('paced transfers call the pacers for every byte, in small pieces', async () => {
  const b = backend();
  const data = randomBytes(1_000_000);
  const ups: number[] = [];
  const downs: number[] = [];
  const o = { paceUpload: async (n: number) => void ups.push(n), paceDownload: async (n: number) => void downs.push(n) };
  try {
    handler = (req, res) => {
      if (req.method === 'POST') return res.end();
      res.writeHead(200, { 'content-length': String(data.length) }).end(data);
    };
    await b.save(pack, data, o);
    assert.deepEqual(Buffer.from(await b.load(pack, undefined, o)), data);
    assert.equal(ups.reduce((a, x) => a + x, 0), data.length);
    assert.equal(downs.reduce((a, x) => a + x, 0), data.length);
    assert.ok(Math.max(...ups) <= 64 * 1024);
  } finally {
    await b.close();
  }
});

test('an untrusted TLS certificate, or a peer that does not speak HTTP, is a PermanentError at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-tls-'));
  const tls = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1']);
  assert.equal(tls.status, 0, String(tls.stderr));
  const https = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, res) => res.end());
  const junk = createNetServer((s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
  const sockets = new Set<Socket>();
  for (const srv of [https, junk]) srv.on('connection', (s: Socket) => sockets.add(s));
  await Promise.all([new Promise<void>((r) => https.listen(0, '127.0.0.1', r)), new Promise<void>((r) => junk.listen(0, '127.0.0.1', r))]);
  try {
    for (const [url, hint] of [
      [`https://127.0.0.1:${(https.address() as AddressInfo).port}/`, /self-signed certificate.*NODE_EXTRA_CA_CERTS/],
      [`http://127.0.0.1:${(junk.address() as AddressInfo).port}/`, /does not speak HTTP/],
    ] as const) {
      const loc = parseRestLocation(`rest:${url}`, {});
      const b = new RestBackend({ transport: new Http1Transport(loc.url, { maxSockets: 1 }), basePath: '/', location: loc.display });
      try {
        const e = await failure(b.stat(pack));
        assert.ok(e instanceof PermanentError, `${e.name}: ${e.message}`);
        assert.match(e.message, hint);
      } finally {
        await b.close();
      }
    }
  } finally {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => https.close(r)), new Promise((r) => junk.close(r))]);
    rmSync(dir, { recursive: true, force: true });
  }
});
