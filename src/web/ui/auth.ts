import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'pybackup_token';

/** A fresh random access token (192 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * How a request proves it may use the UI: `bearer` (Authorization: Bearer TOKEN), `cookie` (set after the first
 * visit), `query` (?token=TOKEN: the link printed at start; answered by setting the cookie and redirecting to the
 * same URL without the token, so it leaves the address bar and history), or `none`.
 */
export function authenticate(req: Pick<IncomingMessage, 'headers'>, url: URL, token: string): 'bearer' | 'cookie' | 'query' | 'none' {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && same(auth.slice(7).trim(), token)) return 'bearer';
  const c = cookieValue(req.headers.cookie, COOKIE);
  if (c !== undefined && same(c, token)) return 'cookie';
  const q = url.searchParams.get('token');
  if (q !== null && same(q, token)) return 'query';
  return 'none';
}

export function sessionCookie(token: string): string {
  return `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Whether the Host header names this server (defeats DNS rebinding: a hostile page on evil.example resolving to
 * 127.0.0.1 sends Host: evil.example). `allowed` holds "host:port" forms the server answers to.
 */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

/**
 * The CSRF rule for state-changing requests: the form's hidden `csrf` field must equal the token (a cross-site page
 * cannot read it), and an Origin header, when the browser sends one, must be this server's own origin.
 */
export function csrfOk(req: Pick<IncomingMessage, 'headers'>, formToken: string | undefined, token: string): boolean {
  if (formToken === undefined || !same(formToken, token)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** The "host:port" forms a server bound to `host`:`port` answers to. */
export function allowedHosts(host: string, port: number): Set<string> {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const s = new Set([`${h}:${port}`.toLowerCase()]);
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') for (const x of ['127.0.0.1', 'localhost', '[::1]']) s.add(`${x}:${port}`);
  return s;
}
