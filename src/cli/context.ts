import { resolvePassword } from '../app/password.ts';
import { openRepository } from '../app/open-repository.ts';
import { acquireLock, type HeldLock } from '../repository/locker.ts';
import type { Repository } from '../repository/repository.ts';
import { Output } from './render/output.ts';
import { promptHidden } from './prompt.ts';

export interface GlobalOptions {
  repo?: string;
  passwordFile?: string;
  passwordCommand?: string;
  json?: boolean;
  quiet?: boolean;
  noLock?: boolean;
}

/** What every command gets: global flags, the Ctrl-C signal, and the output. */
export interface Context {
  readonly globals: GlobalOptions;
  readonly signal: AbortSignal;
  readonly out: Output;
}

export function makeContext(globals: GlobalOptions, signal: AbortSignal): Context {
  return { globals, signal, out: new Output({ json: !!globals.json, quiet: !!globals.quiet }) };
}

export function repoLocation(ctx: Context): string {
  return ctx.globals.repo ?? process.env.PYBACKUP_REPOSITORY ?? '';
}

export async function password(ctx: Context, o: { confirm?: boolean } = {}): Promise<string> {
  return await resolvePassword(
    {
      passwordFile: ctx.globals.passwordFile,
      passwordCommand: ctx.globals.passwordCommand,
      prompt: process.stdin.isTTY && process.stderr.isTTY ? promptHidden : undefined,
    },
    o,
  );
}

/** Opens the repository, takes a lock, runs `fn`, and always releases the lock and closes. */
export async function withRepository<T>(ctx: Context, o: { lock: 'shared' | 'exclusive' | 'prune' | 'none' }, fn: (repo: Repository, lock: HeldLock | undefined) => Promise<T>): Promise<T> {
  const repo = await openRepository(repoLocation(ctx), await password(ctx), {
    signal: ctx.signal,
    onWarning: (m) => ctx.out.warn(`warning: ${m}`),
    // restic prints retries too: a slow or flaky repository should not look like a hang
    onRetry: (r) => ctx.out.warn(`${r.op}(${r.target}) failed (attempt ${r.attempt}): ${(r.error as Error)?.message ?? String(r.error)}; retrying in ${r.delayMs} ms`),
  });
  let lock: HeldLock | undefined;
  try {
    if (o.lock !== 'none' && !ctx.globals.noLock) {
      lock = await acquireLock(repo, o.lock, { signal: ctx.signal });
      // Index files written between opening and locking (a prune's marks among them) are seen before any work.
      await repo.syncCatalog(ctx.signal);
    }
    return await fn(repo, lock);
  } finally {
    await lock?.release().catch(() => {});
    await repo.close().catch(() => {});
  }
}
