import type { HeldLock } from '../repository/locker.ts';
import type { Repository } from '../repository/repository.ts';
import { type Context, type LockMode, openForContext, underLock, withRepository } from './context.ts';

/**
 * How a command's code reaches its repository. A command on its own opens, locks and closes it
 * (`commandSession`); the steps of a profile run share one open repository and lock it step by step
 * (`SharedSession`), so the password is asked for and the key derived once.
 */
export type Session = <T>(lock: LockMode, fn: (repo: Repository, lock: HeldLock | undefined) => Promise<T>) => Promise<T>;

export function commandSession(c: Context): Session {
  return async (lock, fn) => await withRepository(c, { lock }, fn);
}

export class SharedSession {
  readonly #c: Context;
  readonly #password: () => Promise<string>;
  #repo: Promise<Repository> | undefined;

  /** `password`: where the password comes from (a profile's source); asked only when the repository is opened. */
  constructor(c: Context, password: () => Promise<string>) {
    this.#c = c;
    this.#password = password;
  }

  readonly run: Session = async (lock, fn) => {
    this.#repo ??= this.#password().then(async (pw) => await openForContext(this.#c, pw));
    const repo = await this.#repo;
    return await underLock(this.#c, repo, lock, fn);
  };

  /** The repository id, once it has been opened. */
  async repositoryId(): Promise<string | undefined> {
    return this.#repo ? (await this.#repo.catch(() => undefined))?.config.id : undefined;
  }

  async close(): Promise<void> {
    const r = this.#repo;
    this.#repo = undefined;
    if (r) await (await r.catch(() => undefined))?.close().catch(() => {});
  }
}
