import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContentReader } from '../../browse/content.ts';
import type { VNode, Vfs } from '../../browse/vfs.ts';
import { BadPath, contentType, httpDate, parseRange, parseTarget } from './encoding.ts';
import { FINITE_DEPTH_XML, type Resource, etagOf, listingHtml, multistatusXml } from './propfind.ts';

/** One request served (for --json / --verbose). */
export interface RequestEvent {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
}

export interface WebdavOptions {
  /** the namespace; called per request, so the caller may refresh it (new snapshots) */
  readonly vfs: () => Promise<Vfs>;
  readonly reader: ContentReader;
  readonly onRequest?: (e: RequestEvent) => void;
  /** refuse requests whose Host is not a loopback name (against DNS rebinding); on for loopback listeners */
  readonly loopbackOnly?: boolean;
}

const ALLOW = 'OPTIONS, GET, HEAD, PROPFIND';
const WRITES = new Set(['PUT', 'DELETE', 'MKCOL', 'COPY', 'MOVE', 'PROPPATCH', 'POST', 'PATCH']);
const PIECE = 1 << 20;
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/** Only regular files and directories are served: WebDAV has no symlinks or device nodes. */
const served = (v: VNode): boolean => v.stat.type === 'file' || v.stat.type === 'dir';

/** The request handler of the read-only WebDAV server (class 1 subset; see docs/design.md "WebDAV and mount"). */
export function webdavHandler(o: WebdavOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    let bytes = 0;
    const count = (chunk: unknown): void => {
      if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk);
      else if (chunk instanceof Uint8Array) bytes += chunk.length;
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: Buffer | string, ...rest: never[]) => {
      count(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: never[]) => {
      count(chunk);
      return end(chunk as Buffer, ...rest);
    }) as typeof res.end;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
      o.onRequest?.({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, bytes, ms: Math.round(performance.now() - started) });
    });
    serve(o, req, res, ac.signal).catch((e: unknown) => {
      if (res.headersSent) res.destroy();
      else send(res, 500, `internal error: ${(e as Error).message}\n`);
    });
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(buf.length), ...headers });
  res.end(buf);
}

async function serve(o: WebdavOptions, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const method = (req.method ?? '').toUpperCase();
  req.resume(); // bodies are not needed (PROPFIND always answers with every live property)
  if (o.loopbackOnly && !LOOPBACK_HOST.test(req.headers.host ?? 'localhost')) return send(res, 403, 'forbidden host\n');
  res.setHeader('DAV', '1');
  if (WRITES.has(method)) return send(res, 403, 'read-only: the snapshots cannot be changed\n');
  if (method === 'LOCK' || method === 'UNLOCK') return send(res, 405, 'locking is not supported (read-only server)\n', { Allow: ALLOW });
  if (!['OPTIONS', 'GET', 'HEAD', 'PROPFIND'].includes(method)) return send(res, 501, `method ${method} is not implemented\n`, { Allow: ALLOW });
  let parts: (string | Buffer)[];
  try {
    parts = parseTarget(req.url ?? '');
  } catch (e) {
    if (e instanceof BadPath) return send(res, 400, `bad request path: ${e.message}\n`);
    throw e;
  }
  if (method === 'OPTIONS') {
    res.writeHead(200, { Allow: ALLOW, 'MS-Author-Via': 'DAV', 'Content-Length': '0' });
    return void res.end();
  }
  const vfs = await o.vfs();
  const here = await resolveShown(vfs, parts, signal).catch(() => undefined);
  if (!here || !served(here.v)) return send(res, 404, 'not found\n');
  const found = here.v;
  if (method === 'PROPFIND') return await propfind(vfs, req, res, here, signal);
  const dir = found.stat.type === 'dir';
  if (dir) {
    const kids = (await vfs.readdir(found, signal)).filter(served).map((v) => ({ names: [...here.names, v.name], v }));
    const html = listingHtml(here.names, kids);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)), 'Last-Modified': httpDate(found.stat.mtimeMs), ETag: etagOf(found) });
    return void res.end(method === 'HEAD' ? undefined : html);
  }
  return await getFile(o.reader, req, res, here, method === 'HEAD', signal);
}

/** Follows the decoded components; the result carries the shown name of each (for hrefs). */
async function resolveShown(vfs: Vfs, parts: readonly (string | Buffer)[], signal: AbortSignal): Promise<Resource | undefined> {
  const names: string[] = [];
  let cur: VNode | undefined = vfs.root;
  for (const p of parts) {
    cur = await vfs.child(cur, p, signal);
    if (!cur) return undefined;
    names.push(cur.name);
  }
  return { names, v: cur };
}

async function propfind(vfs: Vfs, req: IncomingMessage, res: ServerResponse, here: Resource, signal: AbortSignal): Promise<void> {
  const depth = String(req.headers.depth ?? 'infinity').trim().toLowerCase();
  if (depth !== '0' && depth !== '1') {
    const buf = Buffer.from(FINITE_DEPTH_XML);
    res.writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': String(buf.length) });
    return void res.end(buf);
  }
  const all = [here];
  if (depth === '1' && here.v.stat.type === 'dir') {
    for (const v of await vfs.readdir(here.v, signal)) if (served(v)) all.push({ names: [...here.names, v.name], v });
  }
  const buf = Buffer.from(multistatusXml(all), 'utf8');
  res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': String(buf.length) });
  res.end(buf);
}

async function getFile(reader: ContentReader, req: IncomingMessage, res: ServerResponse, r: Resource, head: boolean, signal: AbortSignal): Promise<void> {
  const node = r.v.node;
  const content = node?.content ?? [];
  const size = reader.layout(content).size;
  const etag = etagOf(r.v);
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? req.headers.range : undefined;
  const range = parseRange(rangeHeader, size);
  const headers: Record<string, string> = {
    'Content-Type': contentType(r.names[r.names.length - 1] ?? ''),
    'Last-Modified': httpDate(r.v.stat.mtimeMs),
    ETag: etag,
    'Accept-Ranges': 'bytes',
  };
  if (range === 'unsatisfiable') return send(res, 416, 'range not satisfiable\n', { 'Content-Range': `bytes */${size}` });
  if (req.headers['if-none-match'] === etag && range === undefined) {
    res.writeHead(304, headers);
    return void res.end();
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': String(Math.max(0, end - start + 1)) });
  if (head || end < start) return void res.end();
  // one piece ahead in flight: the repository read of the next piece overlaps sending this one
  const read = (at: number): Promise<Buffer> => {
    const p = reader.readRange(content, at, Math.min(PIECE, end + 1 - at), signal);
    p.catch(() => {});
    return p;
  };
  let pos = start;
  let next = read(pos);
  while (pos <= end) {
    const buf = await next;
    if (buf.length === 0) break;
    pos += buf.length;
    if (pos <= end) next = read(pos);
    if (!res.write(buf)) await drained(res);
    if (signal.aborted) return;
  }
  if (pos <= end) return void res.destroy(); // the content is shorter than its blobs' index sizes said
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export interface RunningServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 = any free port); resolves once listening. */
export async function startWebdav(o: WebdavOptions, host: string, port: number): Promise<RunningServer> {
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, webdavHandler(o));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
