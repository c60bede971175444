import { type Backend } from '../backend/backend.ts';
import { withFaults } from '../backend/faults.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { type RetryOptions, withRetry } from '../backend/retry.ts';
import { UsageError } from '../errors.ts';
import { type InitOptions, type OpenOptions, Repository } from '../repository/repository.ts';
import { parseTestFaults } from './test-faults.ts';

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
export function backendFor(location: string, env: NodeJS.ProcessEnv = process.env, onRetry?: RetryOptions['onRetry']): Backend {
  const base = baseBackendFor(location);
  const test = parseTestFaults(env.PYBACKUP_TEST_FAULTS);
  const notify: RetryOptions = onRetry ? { onRetry } : {};
  if (!test) return withRetry({ ...LOCAL_RETRY, ...notify })(base);
  const retry: RetryOptions = { ...LOCAL_RETRY, ...notify, attempts: 10, timeoutMs: test.timeoutMs, ...(test.baseMs !== undefined ? { baseMs: test.baseMs } : {}) };
  return withRetry(retry)(withFaults(test.faults)(base));
}

function baseBackendFor(location: string): Backend {
  if (!location) throw new UsageError('no repository given: use -r/--repo or set PYBACKUP_REPOSITORY');
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  const scheme = /^([a-z0-9]+):/.exec(location)?.[1];
  if (scheme && ['sftp', 'rest', 'rclone', 's3', 'b2', 'azure', 'gs', 'swift'].includes(scheme)) {
    throw new UsageError(`repository type "${scheme}:" is not supported yet; use a local directory`);
  }
  return new LocalBackend(location);
}

export async function openRepository(
  location: string,
  password: string,
  o: Pick<OpenOptions, 'signal' | 'onWarning'> & { onRetry?: RetryOptions['onRetry'] } = {},
): Promise<Repository> {
  const { onRetry, ...open } = o;
  return await Repository.open(backendFor(location, process.env, onRetry), password, open);
}

export async function initRepository(location: string, password: string, o: InitOptions = {}): Promise<Repository> {
  return await Repository.init(backendFor(location), password, o);
}
