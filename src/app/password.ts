import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PyBackupError, UsageError } from '../errors.ts';

export class NoPasswordError extends PyBackupError {
  constructor(message: string) {
    super('NO_PASSWORD', message);
  }
}

export interface PasswordSources {
  readonly passwordFile?: string | undefined;
  readonly passwordCommand?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Asks on the terminal; undefined when there is none. */
  readonly prompt?: ((question: string) => Promise<string>) | undefined;
}

/** Resolves the repository password: --password-file, --password-command, PYBACKUP_PASSWORD(_FILE/_COMMAND), a prompt. */
export async function resolvePassword(s: PasswordSources, o: { confirm?: boolean } = {}): Promise<string> {
  const env = s.env ?? process.env;
  const file = s.passwordFile ?? env.PYBACKUP_PASSWORD_FILE;
  const command = s.passwordCommand ?? env.PYBACKUP_PASSWORD_COMMAND;
  if (file && command) throw new UsageError('--password-file and --password-command are mutually exclusive');
  if (file) return fromFile(file);
  if (command) return fromCommand(command);
  if (env.PYBACKUP_PASSWORD !== undefined) return nonEmpty(env.PYBACKUP_PASSWORD, 'PYBACKUP_PASSWORD');
  if (s.prompt) {
    const p = await s.prompt('enter password for repository: ');
    if (o.confirm) {
      const again = await s.prompt('enter password again: ');
      if (again !== p) throw new UsageError('passwords do not match');
    }
    return nonEmpty(p, 'password');
  }
  throw new NoPasswordError('no password given: set PYBACKUP_PASSWORD, use --password-file or --password-command, or run on a terminal');
}

/** Resolves a new password (key add / passwd): the flags, PYBACKUP_NEW_PASSWORD, or a prompt asked twice. */
export async function resolveNewPassword(s: PasswordSources): Promise<string> {
  const env = s.env ?? process.env;
  if (s.passwordFile !== undefined && s.passwordCommand !== undefined) throw new UsageError('--new-password-file and --new-password-command are mutually exclusive');
  if (s.passwordFile !== undefined) return fromFile(s.passwordFile, 'new password file');
  if (s.passwordCommand !== undefined) return fromCommand(s.passwordCommand, 'new password command');
  if (env.PYBACKUP_NEW_PASSWORD !== undefined) return nonEmpty(env.PYBACKUP_NEW_PASSWORD, 'PYBACKUP_NEW_PASSWORD');
  if (s.prompt) {
    const p = nonEmpty(await s.prompt('enter new password: '), 'new password');
    if ((await s.prompt('enter new password again: ')) !== p) throw new UsageError('new passwords do not match');
    return p;
  }
  throw new NoPasswordError('no new password given: use --new-password-file or --new-password-command, set PYBACKUP_NEW_PASSWORD, or run on a terminal');
}

function fromFile(file: string, what = 'password file'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  return nonEmpty(text.replace(/\r?\n$/, ''), `${what} ${file}`);
}

function fromCommand(command: string, what = 'password command'): string {
  let out: string;
  try {
    out = execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
  } catch (e) {
    throw new UsageError(`${what} failed: ${(e as Error).message.split('\n')[0]}`);
  }
  return nonEmpty(out.replace(/\r?\n$/, ''), `${what} output`);
}

function nonEmpty(p: string, what: string): string {
  if (p.length === 0) throw new UsageError(`${what} is empty; an empty password is not allowed`);
  return p;
}
