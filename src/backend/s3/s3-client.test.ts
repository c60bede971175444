import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { after, before, test } from 'node:test';
import { S3_KEY, S3_SECRET, type S3TestServer, startS3Server } from '../../../test/support/s3-server.ts';
import { AbortedError } from '../../errors.ts';
import { NotFoundError, PermanentError, TransientError } from '../backend.ts';
import { parseS3Location } from './location.ts';
import { S3Backend } from './s3-backend.ts';
import { S3Client } from './s3-client.ts';
import { answerError, networkError } from './s3-errors.ts';

const CREDS = { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET };
let server: S3TestServer;
before(async () => {
  server = await startS3Server({ buckets: ['vhb.localhost', 'plain'] });
});
after(async () => server.stop());

/** Every name resolves to 127.0.0.1 (so bucket.localhost reaches the test server without DNS). */
const loopback: LookupFunction = (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

test('virtual-hosted style: Host is bucket.host, the path is the key, and the signature verifies', async () => {
  const port = new URL(server.endpoint).port;
  // s3rver takes the whole virtual host name as the bucket, hence the bucket "vhb.localhost" on its side
  const b = new S3Backend(`s3:http://localhost:${port}/vhb/prefix`, { env: { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET, HOME: '/nonexistent' }, pathStyle: false, lookup: loopback });
  try {
    const name = randomBytes(32).toString('hex');
    await b.save({ type: 'snapshot', name }, Buffer.from('hello'));
    assert.equal(Buffer.from(await b.load({ type: 'snapshot', name })).toString(), 'hello');
    const names: string[] = [];
    for await (const f of b.list('snapshot')) names.push(f.name);
    assert.deepEqual(names, [name]);
    const put = server.log.find((l) => l.method === 'PUT' && l.path.endsWith(name));
    assert.equal(put?.host, `vhb.localhost:${port}`);
    assert.equal(put?.path, `/prefix/snapshots/${name}`);
    assert.equal(put?.status, 200);
  } finally {
    await b.close();
  }
});

test('requests carry exactly what S3-compatible servers accept: fixed length, real payload hash, no extras', async () => {
  const c = new S3Client({ location: parseS3Location(`s3:${server.endpoint}/plain`), pathStyle: true, region: 'us-east-1', credentials: CREDS });
  try {
    const body = randomBytes(1000);
    const res = await c.request({ method: 'PUT', key: 'shape/obj', body, what: 'put' });
    assert.equal(res.status, 200);
    const h = server.log.filter((l) => l.path === '/plain/shape/obj').at(-1)?.headers ?? {};
    assert.equal(h['content-length'], '1000');
    assert.equal(h['transfer-encoding'], undefined);
    assert.match(String(h['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
    for (const name of Object.keys(h)) assert.doesNotMatch(name, /^(x-amz-acl|x-amz-checksum|x-amz-sdk-checksum|x-amz-trailer|content-encoding|x-amz-decoded-content-length)/);
  } finally {
    c.close();
  }
});

test('a bucket in another region: the client re-signs for the region the server names, once', async () => {
  const scopes: string[] = [];
  const srv = http.createServer((req, res) => {
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    scopes.push(region);
    req.resume();
    if (region !== 'eu-west-1') {
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end(`<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region '${region}' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>`);
    } else {
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const c = new S3Client({ location: parseS3Location(`s3:http://127.0.0.1:${port}/bucket`), pathStyle: true, region: 'us-east-1', credentials: CREDS });
  try {
    const res = await c.request({ method: 'GET', key: 'k', what: 'get' });
    assert.equal(res.status, 200);
    assert.deepEqual(scopes, ['us-east-1', 'eu-west-1']);
    assert.equal(c.region, 'eu-west-1');
    await c.request({ method: 'GET', key: 'k', what: 'get' });
    assert.deepEqual(scopes, ['us-east-1', 'eu-west-1', 'eu-west-1']);
  } finally {
    c.close();
    srv.closeAllConnections();
    srv.close();
  }
});

test('a server that stops talking is a transient failure after the idle timeout', async () => {
  const srv = http.createServer(() => {});
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const c = new S3Client({ location: parseS3Location(`s3:http://127.0.0.1:${port}/bucket`), pathStyle: true, region: 'us-east-1', credentials: CREDS, idleTimeoutMs: 200 });
  try {
    await assert.rejects(c.request({ method: 'GET', key: 'k', what: 'get k' }), (e: Error) => e instanceof TransientError && /no answer/.test(e.message));
  } finally {
    c.close();
    srv.closeAllConnections();
    srv.close();
  }
});

const answer = (status: number, body: string, headers: Record<string, string> = {}) => ({ status, headers, body: Buffer.from(body) });

test('answers map to NotFound, Permanent or Transient errors; messages are one safe line without secrets', () => {
  const xml = (code: string, msg: string): string => `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${msg}</Message></Error>`;
  assert.ok(answerError(answer(404, xml('NoSuchKey', 'gone')), 'load x', [], 'b') instanceof NotFoundError);
  assert.ok(answerError(answer(404, ''), 'stat x', [], 'b') instanceof NotFoundError);
  const nb = answerError(answer(404, xml('NoSuchBucket', 'no')), 'load x', [], 'bk');
  assert.ok(nb instanceof PermanentError && /bucket "bk" does not exist/.test(nb.message));
  for (const [status, code] of [[403, 'AccessDenied'], [401, 'Unauthorized'], [400, 'InvalidArgument'], [409, 'Conflict']] as const) {
    assert.ok(answerError(answer(status, xml(code, 'm')), 'op', [], 'b') instanceof PermanentError, code);
  }
  for (const [status, code] of [[503, 'SlowDown'], [500, 'InternalError'], [400, 'RequestTimeout'], [429, 'TooManyRequests'], [502, '']] as const) {
    assert.ok(answerError(answer(status, code ? xml(code, 'm') : '<html>Bad Gateway</html>'), 'op', [], 'b') instanceof TransientError, `${status} ${code}`);
  }
  const leak = answerError(answer(403, xml('SignatureDoesNotMatch', 'bad sig for topSECRETkey and\nline two\u0007')), 'load config', ['topSECRETkey'], 'b');
  assert.equal(leak.message, 'load config: 403 SignatureDoesNotMatch: bad sig for *** and line two (check the secret access key in AWS_SECRET_ACCESS_KEY or the profile\'s aws_secret_access_key)');
  assert.match(answerError(answer(403, ''), 'stat x', [], 'b').message, /^stat x: 403 Forbidden$/);
  assert.ok(answerError(answer(400, 'x'.repeat(5000)), 'op', [], 'b').message.length < 400);
});

test('network failures: DNS and TLS are permanent, dropped connections transient, aborts are aborts', () => {
  const err = (code: string): Error => Object.assign(new Error(`${code} happened`), { code });
  assert.ok(networkError(err('ENOTFOUND'), 'op', 'e', undefined) instanceof PermanentError);
  assert.ok(networkError(err('ERR_TLS_CERT_ALTNAME_INVALID'), 'op', 'e', undefined) instanceof PermanentError);
  assert.ok(networkError(err('DEPTH_ZERO_SELF_SIGNED_CERT'), 'op', 'e', undefined) instanceof PermanentError);
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'HPE_INVALID_CONSTANT']) {
    assert.ok(networkError(err(code), 'op', 'e', undefined) instanceof TransientError, code);
  }
  const ac = new AbortController();
  ac.abort();
  assert.ok(networkError(err('ECONNRESET'), 'op', 'e', ac.signal) instanceof AbortedError);
});
