import type { ServerResponse } from 'node:http';
import { dumpArchive, dumpFile } from '../../browse/dump.ts';
import { displayName } from '../../browse/path.ts';
import { HttpError, type Req, param } from './http.ts';
import type { UiState } from './state.ts';

/**
 * A Content-Disposition header for `name`: an ASCII fallback `filename` (quotes, backslashes, controls and
 * non-ASCII replaced by "_") and the exact UTF-8 name in RFC 5987 `filename*`.
 */
export function contentDisposition(name: string): string {
  // oxlint-disable-next-line no-control-regex -- control characters are what is replaced
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_') || 'download';
  const ext = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${ext}`;
}

/** Writes to the response, waiting when its buffer is full (backpressure); fails when the client went away. */
function sinkOf(res: ServerResponse): (chunk: Buffer) => Promise<void> {
  return async (chunk) => {
    if (res.destroyed) throw new HttpError(499, 'client closed the connection');
    if (!res.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', closed);
          resolve();
        };
        const closed = (): void => {
          res.off('drain', done);
          reject(new HttpError(499, 'client closed the connection'));
        };
        res.on('drain', done);
        res.on('close', closed);
      });
    }
  };
}

/** GET /download?snap=ID&p=PATH — a file's bytes, or a directory (or the snapshot root) as a streamed zip. */
export async function downloadRoute(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const s = await st.snapshot(param(req.url, 'snap') ?? null);
  const r = await st.resolve(s, param(req.url, 'p') ?? '/');
  const last = r.parts[r.parts.length - 1];
  const base = last ? displayName(last) : `snapshot-${s.id.slice(0, 8)}`;
  const signal = req.signal;
  if (r.treeId !== undefined) {
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Disposition': contentDisposition(`${base}.zip`) });
    if (req.method === 'HEAD') return void res.end();
    await dumpArchive('zip', st.deps.store, st.deps.reader, { treeId: r.treeId, node: r.node, name: last }, sinkOf(res), { signal });
    res.end();
    return;
  }
  const n = r.node;
  if (n?.type !== 'file') throw new HttpError(400, `${base} is a ${n?.type ?? 'root'}, not a file: only files and directories can be downloaded`);
  const size = st.deps.reader.layout(n.content ?? []).size;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Content-Disposition': contentDisposition(base) });
  if (req.method === 'HEAD') return void res.end();
  await dumpFile(st.deps.reader, n, sinkOf(res), signal);
  res.end();
}
