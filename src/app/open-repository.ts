import { type Backend } from '../backend/backend.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { UsageError } from '../errors.ts';
import { type InitOptions, Repository } from '../repository/repository.ts';

/** Turns a repository location string into a backend. Plain paths and `local:PATH` are local directories. */
export function backendFor(location: string): Backend {
  if (!location) throw new UsageError('no repository given: use -r/--repo or set PYBACKUP_REPOSITORY');
  if (location.startsWith('local:')) return new LocalBackend(location.slice('local:'.length));
  const scheme = /^([a-z0-9]+):/.exec(location)?.[1];
  if (scheme && ['sftp', 'rest', 'rclone', 's3', 'b2', 'azure', 'gs', 'swift'].includes(scheme)) {
    throw new UsageError(`repository type "${scheme}:" is not supported yet; use a local directory`);
  }
  return new LocalBackend(location);
}

export async function openRepository(location: string, password: string, o: { signal?: AbortSignal } = {}): Promise<Repository> {
  return await Repository.open(backendFor(location), password, o.signal ? { signal: o.signal } : {});
}

export async function initRepository(location: string, password: string, o: InitOptions = {}): Promise<Repository> {
  return await Repository.init(backendFor(location), password, o);
}
