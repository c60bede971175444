import { type Backend } from '../backend/backend.ts';
import { withFaults } from '../backend/faults.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { type RetryOptions, withRetry } from '../backend/retry.ts';
import { UsageError } from '../errors.ts';
import { type InitOptions, type OpenOptions, Repository } from '../repository/repository.ts';
import { parseTestFaults } from './test-faults.ts';
import { type RateLimits, withRateLimit } from '../backend/rate-limit.ts';
import { remoteBackendOptions, s3BackendOptions, sftpBackendOptions } from './backend-options.ts';

/**
 * Retry for a local directory: only errors that can pass (EIO, EBUSY, EAGAIN, ESTALE and the network errors of a
 * mounted share) are retried, a few times and briefly; no per-call timer on the hot path. Remote backends will add
 * a per-call `timeoutMs` here.
 */
const LOCAL_RETRY: RetryOptions = { attempts: 5, baseMs: 100, capMs: 2000 };

/**
 * Turns a repository location string into a backend wrapped for retries (the one place wrappers are composed).
 * Plain paths and `local:PATH` are local directories. `env.PYBACKUP_TEST_FAULTS` (a test hook, see test-faults.ts)
 * puts a fault injector between the retry wrapper and the backend.
 */
export async function backendFor(location: string, env: NodeJS.ProcessEnv = process.env, onRetry?: RetryOptions['onRetry'], limits?: RateLimits): Promise<Backend> {
  // --limit-upload/--limit-download sit inside the retry wrapper: retried bytes count, and the timeout grows with them
  const raw = await baseBackendFor(location);
  const base = limits ? withRateLimit(limits)(raw) : raw;
  const test = parseTestFaults(env.PYBACKUP_TEST_FAULTS);
  const notify: RetryOptions = onRetry ? { onRetry } : {};
  // Remote backends (no local spool dir) get more patient retries and a per-call timeout.
  const policy = base.spoolDir === undefined ? { ...REMOTE_RETRY, timeoutMs: (await import('./remote-backends.ts')).timeoutUnderLimits(REMOTE_RETRY.timeoutMs ?? 0, limits) } : LOCAL_RETRY;
  if (!test) return withRetry({ ...policy, ...notify })(base);
  const retry: RetryOptions = { ...policy, ...notify, attempts: 10, timeoutMs: test.timeoutMs, ...(test.baseMs !== undefined ? { baseMs: test.baseMs } : {}) };
  return withRetry(retry)(withFaults(test.faults)(base));
}

/**
 * Retry for network backends: 10 attempts with backoff up to 30 s (up to about 2 minutes of trying), and a call that has
 * not settled in 15 minutes is abandoned and retried (the backends also drop a connection idle for 60 s).
 */
const REMOTE_RETRY: RetryOptions = { attempts: 10, baseMs: 500, capMs: 30_000, timeoutMs: 15 * 60_000 };

/**
 * The backend for a location. Network backends are loaded on first use: a command on a local repository does not
 * compile them (node:http alone pulls in undici), which is ~20 % of its start-up.
 */
async function baseBackendFor(location: string): Promise<Backend> {
  if (!location) throw new UsageError('no repository given: use -r/--repo or set PYBACKUP_REPOSITORY');
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  if (location.startsWith('rest:') || location.startsWith('rclone:')) {
    const { remoteBackendFor } = await import('./remote-backends.ts');
    const remote = remoteBackendFor(location, process.env, remoteBackendOptions());
    if (remote) return remote;
  }
  if (location.startsWith('s3:')) {
    const { S3Backend } = await import('../backend/s3/s3-backend.ts');
    return new S3Backend(location, s3BackendOptions());
  }
  if (location.startsWith('sftp:')) {
    const [{ SftpBackend }, { sftpConfigFrom }] = await Promise.all([import('../backend/sftp/sftp-backend.ts'), import('../backend/sftp/config.ts')]);
    return new SftpBackend(sftpConfigFrom(location, process.env, sftpBackendOptions()));
  }
  const scheme = /^([a-z0-9]+):/.exec(location)?.[1];
  if (scheme && ['b2', 'azure', 'gs', 'swift'].includes(scheme)) {
    throw new UsageError(`repository type "${scheme}:" is not built in; use s3: (the provider's S3 endpoint) or rclone:${scheme === 'b2' ? 'REMOTE:path' : ''} instead`);
  }
  return new LocalBackend(location);
}

export async function openRepository(
  location: string,
  password: string,
  o: Pick<OpenOptions, 'signal' | 'onWarning'> & { onRetry?: RetryOptions['onRetry']; limits?: RateLimits } = {},
): Promise<Repository> {
  const { onRetry, limits, ...open } = o;
  return await Repository.open(await backendFor(location, process.env, onRetry, limits), password, open);
}

export async function initRepository(location: string, password: string, o: InitOptions = {}): Promise<Repository> {
  return await Repository.init(await backendFor(location), password, o);
}
