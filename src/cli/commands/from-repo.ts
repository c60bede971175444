import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openRepository } from '../../app/open-repository.ts';
import { resolvePassword } from '../../app/password.ts';
import { PyBackupError, UsageError } from '../../errors.ts';
import type { Repository } from '../../repository/repository.ts';
import { type Context, repoLocation } from '../context.ts';
import { rateLimitsOf } from '../limits.ts';
import { promptHidden } from '../prompt.ts';

/** The source repository of `copy` and `init --copy-chunker-params` (restic's --from-repo family). */
export interface FromRepoFlags {
  fromRepo?: string;
  fromPasswordFile?: string;
  fromPasswordCommand?: string;
}

export function addFromRepoOptions(cmd: Command): Command {
  return cmd
    .option('--from-repo <repository>', 'source repository (default: $PYBACKUP_FROM_REPOSITORY)')
    .option('--from-password-file <file>', 'read the source repository password from a file (default: $PYBACKUP_FROM_PASSWORD_FILE)')
    .option('--from-password-command <command>', 'shell command that prints the source repository password (default: $PYBACKUP_FROM_PASSWORD_COMMAND)');
}

export function fromLocation(f: FromRepoFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = f.fromRepo ?? env.PYBACKUP_FROM_REPOSITORY;
  return v === '' ? undefined : v;
}

/** The source password: --from-password-file, --from-password-command, PYBACKUP_FROM_PASSWORD(_FILE/_COMMAND), a prompt. */
export async function fromPassword(f: FromRepoFlags, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    return await resolvePassword({
      passwordFile: f.fromPasswordFile,
      passwordCommand: f.fromPasswordCommand,
      env: { PYBACKUP_PASSWORD: env.PYBACKUP_FROM_PASSWORD, PYBACKUP_PASSWORD_FILE: env.PYBACKUP_FROM_PASSWORD_FILE, PYBACKUP_PASSWORD_COMMAND: env.PYBACKUP_FROM_PASSWORD_COMMAND },
      prompt: process.stdin.isTTY && process.stderr.isTTY ? async () => await promptHidden('enter password for the source repository: ') : undefined,
    });
  } catch (e) {
    if (e instanceof PyBackupError && e.code === 'NO_PASSWORD') {
      throw new PyBackupError('NO_PASSWORD', 'no password given for the source repository: set PYBACKUP_FROM_PASSWORD, use --from-password-file or --from-password-command, or run on a terminal');
    }
    if (e instanceof PyBackupError && e.code === 'USAGE') throw new UsageError(`source repository: ${e.message.replace(/--password/g, '--from-password')}`, { cause: e });
    throw e;
  }
}

/** Opens the source repository (unlocked); errors name it as the source, keeping their codes (exit 10, 12, ...). */
export async function openFromRepo(c: Context, f: FromRepoFlags): Promise<Repository> {
  const location = fromLocation(f);
  if (location === undefined) throw new UsageError('no source repository given: use --from-repo or set PYBACKUP_FROM_REPOSITORY');
  const dest = repoLocation(c);
  if (dest && resolve(dest) === resolve(location)) throw new UsageError('the source and destination are the same repository');
  const pw = await fromPassword(f);
  try {
    return await openRepository(location, pw, {
      signal: c.signal,
      onWarning: (m) => c.out.warn(`warning: source repository: ${m}`),
      limits: rateLimitsOf(c.globals),
    });
  } catch (e) {
    if (e instanceof PyBackupError && e.code === 'WRONG_PASSWORD') throw new PyBackupError(e.code, `wrong password for the source repository ${location}`, { cause: e });
    if (e instanceof PyBackupError && e.code !== 'ABORTED' && e.code !== 'INTERNAL') throw new PyBackupError(e.code, `source repository: ${e.message}`, { cause: e });
    throw e;
  }
}
