/**
 * Helpers for the WebDAV and mount end-to-end tests: a running `serve webdav` / `mount` CLI read back from its
 * --json lines, a raw HTTP client, and a view of a directory tree by shown names (as the WebDAV view renders them).
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { displayName } from '../../src/browse/path.ts';
import type { CliResult } from './helpers.ts';
import { collect } from './helpers.ts';

export interface Running {
  readonly child: ChildProcess;
  /** the first --json line whose message_type is `type` */
  readonly first: Record<string, unknown>;
  /** resolves with the CLI's result once it exits */
  readonly done: Promise<CliResult>;
}

/** Waits for a --json line of `type` on the child's stdout (fails with its output if it exits first or times out). */
export async function started(child: ChildProcess, type: string, timeoutMs = 60_000): Promise<Running> {
  const done = collect(child, { timeoutMs: 300_000 });
  let buf = '';
  const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} line within ${timeoutMs} ms; stdout so far: ${buf}`)), timeoutMs);
    child.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (o.message_type === type) {
            clearTimeout(timer);
            resolve(o);
          }
        } catch {
          // a partial line: wait for more
        }
      }
    });
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited before printing ${type}: exit ${r.code}\n${r.stdout}\n${r.stderr}`));
    });
  });
  return { child, first, done };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One raw HTTP request (the path is sent as given: no normalization of dot segments). */
export function http(url: string, method: string, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Regular files and directories under `root`, keyed by the shown path (displayName of each part; symlinks and
 * special files left out, as the WebDAV view has none): type, size, sha256, mtime in whole seconds.
 */
export function shownTree(root: string, o: { shown?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (abs: Buffer, rel: string): void => {
    for (const n of readdirSync(abs, { encoding: 'buffer' })) {
      const p = Buffer.concat([abs, Buffer.from('/'), n]);
      const st = lstatSync(p);
      const key = `${rel}/${o.shown === false ? n.toString('latin1') : displayName(n)}`;
      const secs = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        out.set(key, 'dir');
        walk(p, key);
      } else if (st.isFile()) out.set(key, `file ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${secs}`);
    }
  };
  walk(Buffer.from(root), '');
  return out;
}
