import type { IncomingMessage, ServerResponse } from 'node:http';
import { PyBackupError } from '../../errors.ts';
import { errorBox, page } from './html.ts';

/** One request as the pages see it. */
export interface Req {
  readonly method: string;
  readonly url: URL;
  readonly raw: IncomingMessage;
  /** aborted when the client goes away before the answer is complete, or when the server stops */
  readonly signal: AbortSignal;
}

export type Handler = (req: Req, res: ServerResponse) => Promise<void>;

/** A client error shown as a page with this status (never a stack trace). */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function securityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0, ...headers });
  res.end();
}

export function errorPage(res: ServerResponse, status: number, title: string, message: string): void {
  sendHtml(res, status, page({ title }, `<h1>${title}</h1>${errorBox(message)}<p><a href="/">Back to the overview</a></p>`));
}

/**
 * Why a request path is refused, or undefined when it is acceptable. Routes are fixed ASCII paths: data travels in
 * the query string, so any percent-escape, backslash, NUL, empty, "." or ".." segment in the path is a trick.
 */
export function badPath(rawUrl: string): string | undefined {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (!path.startsWith('/')) return 'the path must start with "/"';
  if (path.includes('%')) return 'percent-encoded characters are not allowed in the path';
  if (path.includes('\\') || path.includes('\0')) return 'invalid character in the path';
  const segs = path.split('/').slice(1);
  if (segs.some((s, i) => s === '.' || s === '..' || (s === '' && i < segs.length - 1))) return 'relative or empty path segments are not allowed';
  // oxlint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(rawUrl)) return 'control characters are not allowed';
  return undefined;
}

/** A query parameter, refusing NUL (names in snapshots never hold it; a NUL is a trick). */
export function param(url: URL | URLSearchParams, name: string): string | undefined {
  const v = url instanceof URL ? url.searchParams.get(name) : url.get(name);
  if (v === null) return undefined;
  if (v.includes('\0')) throw new HttpError(400, `parameter ${name} may not contain NUL`);
  return v;
}

/** Reads an application/x-www-form-urlencoded body (at most 64 KiB). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'expected a form (application/x-www-form-urlencoded)');
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > 64 << 10) throw new HttpError(413, 'form too large');
    parts.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(parts).toString('utf8'));
}

/** Maps a failure to an HTTP status: user errors (bad id, missing path) are 4xx with their message; others 500. */
export function statusOf(e: unknown): { status: number; message: string } {
  if (e instanceof HttpError) return { status: e.status, message: e.message };
  if (e instanceof PyBackupError) {
    // the client went away or the server is stopping: nobody reads an answer
    if (e.code === 'ABORTED') return { status: 499, message: e.message };
    if (e.code === 'NOT_FOUND' || e.code === 'SNAPSHOT_NOT_FOUND') return { status: 404, message: e.message };
    if (e.code === 'USAGE' || e.code === 'INVALID_INPUT') return { status: 400, message: e.message };
    return { status: 500, message: e.message };
  }
  return { status: 500, message: `internal error: ${(e as Error)?.message ?? String(e)}` };
}
