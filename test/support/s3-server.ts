/**
 * An S3 server for tests, on 127.0.0.1 only: s3rver (in process, a temp directory, a random port) behind a small
 * HTTP proxy that does what s3rver does not. s3rver 3.x checks only that a SigV4 request names a known access key
 * ("Signature version 4 calculation is unimplemented" in its authentication middleware), so the proxy verifies
 * every signature the way S3 does, from the bytes on the wire, with its own canonicalization written
 * independently of src/backend/s3/sigv4.ts: a wrong secret gets AWS's 403 SignatureDoesNotMatch. It also checks the
 * payload hash against the body, refuses chunked uploads (411, as S3 does), can inject faults, and works around
 * s3rver's broken ListObjectsV2 pagination (see listV2AsV1).
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (o: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

export const S3_KEY = 'S3RVER';
export const S3_SECRET = 'S3RVER';

export interface Fault {
  /** Which requests to hit (default all). */
  readonly match?: (method: string, path: string) => boolean;
  readonly status: number;
  readonly code: string;
  /** How many times (default 1). */
  times?: number;
}

export interface S3TestServer {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** s3rver's data directory (buckets are subdirectories). */
  readonly dir: string;
  /** Requests seen, with their verdict. */
  readonly log: { method: string; host: string; path: string; status: number; headers: http.IncomingHttpHeaders }[];
  readonly faults: Fault[];
  stop(): Promise<void>;
}

export async function startS3Server(o: { buckets?: readonly string[] } = {}): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-s3rver-'));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    resetOnClose: false,
    allowMismatchedSignatures: false,
    configureBuckets: (o.buckets ?? []).map((name) => ({ name })),
  });
  const inner = await s3.run();
  const log: S3TestServer['log'] = [];
  const faults: Fault[] = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const reply = (status: number, code: string, message: string): void => {
        log.push({ method: req.method ?? '', host: req.headers.host ?? '', path, status, headers: req.headers });
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(req.method === 'HEAD' ? undefined : xml);
      };
      const fault = faults.find((f) => (f.times ?? 1) > 0 && (!f.match || f.match(req.method ?? '', path)));
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        return reply(fault.status, fault.code, 'injected by the test server');
      }
      const problem = verify(req, body);
      if (problem) return reply(problem.status, problem.code, problem.message);
      const v1 = listV2AsV1(req.url ?? '/');
      const fwd = http.request({ host: '127.0.0.1', port: inner.port, method: req.method, path: v1 ?? req.url, headers: req.headers }, (up) => {
        log.push({ method: req.method ?? '', host: req.headers.host ?? '', path, status: up.statusCode ?? 0, headers: req.headers });
        if (v1 === undefined || up.statusCode !== 200) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          const xml = v1ResultAsV2(Buffer.concat(parts).toString('utf8'));
          res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
          res.end(xml);
        });
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    log,
    faults,
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/*
 * s3rver 3.7.1 makes ListObjectsV2 continuation tokens with single DES, which the OpenSSL 3 in current Node refuses
 * (every truncated V2 listing is a 500). The proxy therefore serves V2 listings through s3rver's V1 listing
 * (marker = start-after) and hands out its own continuation tokens (the last key, base64url-encoded).
 */
function listV2AsV1(url: string): string | undefined {
  const u = new URL(url, 'http://x');
  if (u.searchParams.get('list-type') !== '2') return undefined;
  const q = new URLSearchParams();
  for (const k of ['prefix', 'delimiter', 'max-keys']) {
    const v = u.searchParams.get(k);
    if (v !== null) q.set(k, v);
  }
  const token = u.searchParams.get('continuation-token');
  const marker = token !== null ? Buffer.from(token, 'base64url').toString('utf8') : u.searchParams.get('start-after');
  if (marker) q.set('marker', marker);
  return `${u.pathname}?${q.toString()}`;
}

function v1ResultAsV2(xml: string): string {
  const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => (m[1] ?? '').replace(/&(lt|gt|quot|apos|#39|#x27|#96|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'", '#96': '`', amp: '&' })[e] ?? ''));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const last = keys[keys.length - 1];
  const extra = `<KeyCount>${keys.length}</KeyCount>${truncated && last !== undefined ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : ''}`;
  return xml
    .replace(/<Marker>[^<]*<\/Marker>/, '')
    .replace(/<NextMarker>[^<]*<\/NextMarker>/, '')
    .replace('</ListBucketResult>', `${extra}</ListBucketResult>`);
}

const SECRETS: Record<string, string> = { [S3_KEY]: S3_SECRET };

/** What S3 would say about the request's authentication, or undefined when it is good. */
function verify(req: http.IncomingMessage, body: Buffer): { status: number; code: string; message: string } | undefined {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { status: 403, code: 'AccessDenied', message: 'missing or malformed SigV4 Authorization header' };
  const [, akid = '', day = '', region = '', signedList = '', signature = ''] = m;
  const secret = SECRETS[akid];
  if (secret === undefined) return { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const signedNames = signedList.split(';');
  for (const need of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signedNames.includes(need)) return { status: 403, code: 'AccessDenied', message: `${need} must be signed` };
  }
  const stamp = String(req.headers['x-amz-date'] ?? '');
  const t = Date.parse(stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(t) || Math.abs(Date.now() - t) > 15 * 60_000 || !stamp.startsWith(day)) {
    return { status: 403, code: 'RequestTimeTooSkewed', message: 'The difference between the request time and the current time is too large.' };
  }
  const claimed = String(req.headers['x-amz-content-sha256'] ?? '');
  if (claimed !== createHash('sha256').update(body).digest('hex')) {
    return { status: 400, code: 'XAmzContentSHA256Mismatch', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  if (req.method === 'PUT' && (req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] === undefined)) {
    return { status: 411, code: 'MissingContentLength', message: 'You must provide the Content-Length HTTP header.' };
  }
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
  const uri = rawPath.split('/').map((s) => strictEncode(decodeURIComponent(s))).join('/');
  const query = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const [k = '', v = ''] = p.split('=', 2) as [string, string?];
      return [strictEncode(decodeURIComponent(k)), strictEncode(decodeURIComponent(v))] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerLines = signedNames.map((n) => {
    const values = req.headersDistinct[n] ?? [];
    return `${n}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
  });
  const creq = [req.method, uri, query, headerLines.join(''), signedList, claimed].join('\n');
  const sts = ['AWS4-HMAC-SHA256', stamp, `${day}/${region}/s3/aws4_request`, createHash('sha256').update(creq).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(sts).digest('hex');
  if (expected !== signature) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return undefined;
}

/** RFC 3986: encodeURIComponent leaves !'()* alone, S3 does not. */
function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
