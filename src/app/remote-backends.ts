import type { Backend } from '../backend/backend.ts';
import { withConcurrency } from '../backend/concurrency.ts';
import { rcloneBackend } from '../backend/rclone/rclone-backend.ts';
import type { RateLimits } from '../backend/rate-limit.ts';
import { Http1Transport } from '../backend/rest/http1-transport.ts';
import { RestBackend } from '../backend/rest/rest-backend.ts';
import { parseRestLocation } from '../backend/rest/rest-location.ts';
import { connectionsOption } from './remote-options.ts';

/** Calls in flight per REST/rclone repository (restic's default "connections" for both). */
export const REMOTE_CONNECTIONS = 5;

/** The biggest pack a repository may have (config.packSize), for the timeout under a rate limit. */
const MAX_PACK_BYTES = 1 << 30;

/**
 * The per-call timeout of the retry wrapper when a rate limit is in force: `baseMs` plus the time for every
 * connection to move a pack of the biggest allowed size at the slowest limit (the connections share the limit), so a
 * throttled transfer is never cut off as hung. Stalls are still caught by the transports' idle timeout.
 */
export function timeoutUnderLimits(baseMs: number, limits: RateLimits | undefined): number {
  const rates = [limits?.uploadBytesPerSec, limits?.downloadBytesPerSec].filter((r): r is number => r !== undefined);
  if (rates.length === 0) return baseMs;
  return baseMs + Math.ceil(((REMOTE_CONNECTIONS * MAX_PACK_BYTES) / Math.min(...rates)) * 1000);
}

/**
 * `rest:http(s)://[user:pass@]host:port/path` and `rclone:REMOTE:path` -> a backend bounded to REMOTE_CONNECTIONS
 * calls in flight; undefined for any other location.
 */
export function remoteBackendFor(location: string, env: NodeJS.ProcessEnv = process.env, options: ReadonlyMap<string, string> = new Map()): Backend | undefined {
  if (location.startsWith('rest:')) {
    const loc = parseRestLocation(location, env);
    const n = connectionsOption(options, 'rest') ?? REMOTE_CONNECTIONS;
    const transport = new Http1Transport(loc.url, { maxSockets: n, ...(loc.authorization ? { authorization: loc.authorization } : {}) });
    return withConcurrency(n)(new RestBackend({ transport, basePath: loc.url.pathname, location: loc.display }));
  }
  if (location.startsWith('rclone:')) {
    const program = options.get('rclone.program');
    const args = options.get('rclone.args');
    const base = rcloneBackend(location, { env, ...(program !== undefined ? { program } : {}), ...(args !== undefined ? { args } : {}) });
    return withConcurrency(connectionsOption(options, 'rclone') ?? REMOTE_CONNECTIONS)(base);
  }
  return undefined;
}
