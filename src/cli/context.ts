import { resolvePassword } from '../app/password.ts';
import { openRepository } from '../app/open-repository.ts';
import { acquireLock, type HeldLock } from '../repository/locker.ts';
import type { Repository } from '../repository/repository.ts';
import { rateLimitsOf } from './limits.ts';
import { Output } from './render/output.ts';
import { promptHidden } from './prompt.ts';

export interface GlobalOptions {
  repo?: string;
  passwordFile?: string;
  passwordCommand?: string;
  json?: boolean;
  quiet?: boolean;
  noLock?: boolean;
  /** KiB/s (--limit-upload / --limit-download) */
  limitUpload?: number;
  limitDownload?: number;
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

export type LockMode = 'shared' | 'backup' | 'exclusive' | 'prune' | 'none';

/** Opens the repository named by the context (location, password unless given, warnings, retry notices). */
export async function openForContext(ctx: Context, pw?: string): Promise<Repository> {
  return await openRepository(repoLocation(ctx), pw ?? (await password(ctx)), {
    signal: ctx.signal,
    onWarning: (m) => ctx.out.warn(`warning: ${m}`),
    limits: rateLimitsOf(ctx.globals),
    // restic prints retries too: a slow or flaky repository should not look like a hang
    onRetry: (r) => ctx.out.warn(`${r.op}(${r.target}) failed (attempt ${r.attempt}): ${(r.error as Error)?.message ?? String(r.error)}; retrying in ${r.delayMs} ms`),
  });
}

/** Takes a lock on an open repository (unless 'none' or --no-lock), runs `fn`, and always releases the lock. */
export async function underLock<T>(ctx: Context, repo: Repository, mode: LockMode, fn: (repo: Repository, lock: HeldLock | undefined) => Promise<T>): Promise<T> {
  let lock: HeldLock | undefined;
  try {
    if (mode !== 'none' && !ctx.globals.noLock) {
      lock = await acquireLock(repo, mode, { signal: ctx.signal });
      // Index files written between opening and locking (a prune's marks among them) are seen before any work.
      await repo.syncCatalog(ctx.signal);
    }
    return await fn(repo, lock);
  } finally {
    await lock?.release().catch(() => {});
  }
}

/** Opens the repository, takes a lock, runs `fn`, and always releases the lock and closes. */
export async function withRepository<T>(ctx: Context, o: { lock: LockMode }, fn: (repo: Repository, lock: HeldLock | undefined) => Promise<T>): Promise<T> {
  const repo = await openForContext(ctx);
  try {
    return await underLock(ctx, repo, o.lock, fn);
  } finally {
    await repo.close().catch(() => {});
  }
}
