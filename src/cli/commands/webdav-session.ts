import { isIP } from 'node:net';
import { Vfs } from '../../browse/vfs.ts';
import { UsageError } from '../../errors.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { listSnapshots } from '../../repository/snapshots.ts';
import { type RequestEvent, type RunningServer, startWebdav } from '../../web/webdav/server.ts';
import type { Context } from '../context.ts';
import { withBrowse } from './browse-common.ts';
import { reportUnreadableSnapshot } from './common.ts';

/** How often the snapshot list (and index) is re-read while serving, so new backups appear. */
const REFRESH_MS = 30_000;

/** "HOST:PORT", "[V6]:PORT" or "PORT" → host and port (0 = any free port). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65_535) throw new UsageError(`invalid --listen ${JSON.stringify(s)}: use HOST:PORT, e.g. 127.0.0.1:8080 (port 0 = any free port)`);
  const v6 = m[1] || undefined;
  if (v6 !== undefined && isIP(v6) !== 6) throw new UsageError(`invalid --listen ${JSON.stringify(s)}: ${v6} is not an IPv6 address`);
  const host = v6 ?? (m[2] || '127.0.0.1');
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Opens the repository (shared lock, refreshed while serving), starts the WebDAV server on `listen`, runs `fn` with
 * it, and stops the server afterwards. Requests are reported through `onRequest`.
 */
export async function withWebdav<T>(c: Context, listen: { host: string; port: number }, onRequest: ((e: RequestEvent) => void) | undefined, fn: (s: RunningServer) => Promise<T>): Promise<T> {
  return await withBrowse(c, { catalog: true }, async (b) => {
    let snaps: SnapshotWithId[] = await b.snapshots();
    let vfs = new Vfs(b.store, snaps);
    let at = Date.now();
    let refreshing: Promise<void> | undefined;
    const refresh = async (): Promise<void> => {
      try {
        await b.repo.syncCatalog(c.signal);
        const next = await listSnapshots(b.repo, { signal: c.signal, onError: reportUnreadableSnapshot(c) });
        if (next.map((s) => s.id).join() !== snaps.map((s) => s.id).join()) {
          snaps = next;
          vfs = new Vfs(b.store, snaps);
        }
      } catch (e) {
        c.out.warn(`warning: could not re-read the snapshot list: ${(e as Error).message}`);
      } finally {
        at = Date.now();
        refreshing = undefined;
      }
    };
    const getVfs = async (): Promise<Vfs> => {
      if (Date.now() - at > REFRESH_MS) await (refreshing ??= refresh());
      return vfs;
    };
    let server: RunningServer;
    try {
      server = await startWebdav({ vfs: getVfs, reader: b.reader, loopbackOnly: isLoopback(listen.host), ...(onRequest ? { onRequest } : {}) }, listen.host, listen.port);
    } catch (e) {
      throw new UsageError(`cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}`);
    }
    try {
      return await fn(server);
    } finally {
      await server.close();
    }
  });
}

/** Resolves when Ctrl-C (or SIGTERM) aborts the context. */
export function untilInterrupted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** The request events as --json NDJSON lines or, with --verbose, text lines on stderr; otherwise nothing. */
export function requestReporter(c: Context, verbose: boolean): ((e: RequestEvent) => void) | undefined {
  if (c.out.json) return (e) => c.out.line({ message_type: 'request', ...e });
  if (verbose) return (e) => c.out.warn(`${e.method} ${e.path} ${e.status} ${e.bytes} B ${e.ms} ms`);
  return undefined;
}
