import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allowedHosts, authenticate, hostAllowed, newToken, sessionCookie } from './auth.ts';
import { downloadRoute } from './download.ts';
import { type Req, badPath, errorPage, redirect, securityHeaders, sendJson, statusOf } from './http.ts';
import { browsePage, filePage } from './pages-browse.ts';
import { diffPage } from './pages-diff.ts';
import { overviewPage, snapshotsPage } from './pages-overview.ts';
import { jobPage, jobStatusRoute, restoreStart } from './pages-restore.ts';
import { searchPage } from './pages-search.ts';
import { RestoreJobs } from './restore-jobs.ts';
import { type UiDeps, UiState } from './state.ts';

type Route = (st: UiState, req: Req, res: ServerResponse) => Promise<void>;

/** Method + path -> page. Paths are fixed; everything variable travels in the query string or the form. */
export const ROUTES: Readonly<Record<string, Route>> = {
  'GET /': overviewPage,
  'GET /snapshots': snapshotsPage,
  'GET /browse': browsePage,
  'GET /file': filePage,
  'GET /diff': diffPage,
  'GET /search': searchPage,
  'GET /download': downloadRoute,
  'POST /restore': restoreStart,
  'GET /restore/job': jobPage,
  'GET /api/restore': jobStatusRoute,
  'GET /favicon.ico': async (_st, _req, res) => {
    res.writeHead(204).end();
  },
};

export interface WebUiOptions {
  /** default 127.0.0.1 */
  readonly host?: string;
  /** default 0: a free port */
  readonly port?: number;
  /** default: a fresh random token */
  readonly token?: string;
}

export interface WebUi {
  /** the URL to open, with the token */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Stops listening, ends open connections, and waits for running restores to stop. */
  close(): Promise<void>;
}

/** Whether a listen host only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The request handler of one UI (exported for tests without a socket). */
export function handler(st: UiState, hosts: ReadonlySet<string> | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (raw, res) => {
    void handle(st, hosts, raw, res);
  };
}

async function handle(st: UiState, hosts: ReadonlySet<string> | undefined, raw: IncomingMessage, res: ServerResponse): Promise<void> {
  securityHeaders(res);
  const rawUrl = raw.url ?? '/';
  const bad = badPath(rawUrl);
  if (bad !== undefined) return errorPage(res, 400, 'Bad request', bad);
  if (hosts && !hostAllowed(raw.headers.host, hosts)) return errorPage(res, 421, 'Wrong host', 'this server only answers to its own address');
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://ui.invalid');
  } catch {
    return errorPage(res, 400, 'Bad request', 'malformed URL');
  }
  const auth = authenticate(raw, url, st.token);
  if (auth === 'none') return errorPage(res, 401, 'Access denied', 'open the link that `pybackup web` printed (it holds the access token)');
  const method = raw.method ?? 'GET';
  if (auth === 'query' && method === 'GET') {
    url.searchParams.delete('token');
    return redirect(res, url.pathname + url.search, { 'Set-Cookie': sessionCookie(st.token) });
  }
  const route = ROUTES[`${method === 'HEAD' ? 'GET' : method} ${url.pathname}`];
  if (!route) {
    const other = Object.keys(ROUTES).some((k) => k.endsWith(` ${url.pathname}`));
    return other ? errorPage(res, 405, 'Method not allowed', `${method} is not allowed here`) : errorPage(res, 404, 'Not found', `no page at ${url.pathname}`);
  }
  const gone = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) gone.abort(new Error('client closed the connection'));
  };
  res.on('close', onClose);
  try {
    await route(st, { method, url, raw, signal: AbortSignal.any([gone.signal, st.deps.signal]) }, res);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, message } = statusOf(e);
    if (res.destroyed) return;
    if (status === 499) return errorPage(res, 503, 'Stopped', 'the request was cancelled (the server is stopping)');
    if (status >= 500) st.deps.onWarning?.(`web: ${method} ${url.pathname}: ${message}`);
    if (url.pathname.startsWith('/api/')) sendJson(res, status, { error: message });
    else errorPage(res, status, status === 404 ? 'Not found' : status >= 500 ? 'Error' : 'Cannot do that', message);
  } finally {
    res.off('close', onClose);
  }
}

/** Starts the UI server on `host`:`port` (default 127.0.0.1, a free port). */
export async function startWebUi(deps: UiDeps, o: WebUiOptions = {}): Promise<WebUi> {
  const host = o.host ?? '127.0.0.1';
  const token = o.token ?? newToken();
  const st = new UiState(deps, token, new RestoreJobs(deps.repo, deps.signal));
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  // until the port is known no Host can match (nothing connects before listen returns anyway)
  let hosts: Set<string> | undefined = wildcard ? undefined : new Set();
  const server: Server = createServer((req, res) => {
    void handle(st, hosts, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // a wildcard address has no one name to check the Host header against; the token still guards every request
  hosts = wildcard ? undefined : allowedHosts(host.replace(/^\[(.*)\]$/, '$1'), port);
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    host,
    port,
    token,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await st.jobs.settle();
    },
  };
}
