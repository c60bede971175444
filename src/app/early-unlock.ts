import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { deriveKekEarly } from '../crypto/kdf.ts';
import { parseKeyFile } from '../repository/keyfile.ts';
import { resolvePassword } from './password.ts';

/** Commands that open an existing repository with the password (`init` makes keys; `run` reads its profile first). */
const OPENERS = new Set(['backup', 'restore', 'snapshots', 'ls', 'find', 'history', 'diff', 'dump', 'cat', 'stats', 'check', 'repair', 'drill', 'forget', 'prune', 'key', 'copy', 'mount', 'serve', 'web']);

/**
 * Starts the key derivation of a command that will open a local repository, before the command's code is loaded:
 * Argon2id (about 0.2 s, on a libuv thread) then runs beside the loading instead of after it, a tenth of a quick
 * command's time. Pure speculation with no effect on what the command does: the derivation is only started when the
 * repository is a local directory with exactly one key file and the password comes from PYBACKUP_PASSWORD or a
 * password file (never a command, which must not run twice, or a prompt); Repository.open takes the result when its
 * input matches (crypto/kdf.ts) and derives as usual otherwise. Anything unexpected here just skips the head start.
 */
export function startEarlyUnlock(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  try {
    if (!argv.some((a) => OPENERS.has(a)) || argv.some((a) => a === '-h' || a === '--help' || a === '--')) return;
    const repo = flag(argv, ['-r', '--repo']) ?? env['PYBACKUP_REPOSITORY'];
    const passwordFile = flag(argv, ['--password-file']);
    if (!repo || flag(argv, ['--password-command']) !== undefined || env['PYBACKUP_PASSWORD_COMMAND']) return;
    const dir = localDir(repo);
    if (!dir) return;
    const keys = readdirSync(join(dir, 'keys'));
    if (keys.length !== 1) return;
    const kf = parseKeyFile(readFileSync(join(dir, 'keys', keys[0]!)));
    // resolvePassword with no prompt and no command: a file or the environment, read exactly as the command will
    void resolvePassword({ passwordFile, env: { ...env, PYBACKUP_PASSWORD_COMMAND: undefined } })
      .then((pw) => deriveKekEarly(pw, kf.kdf))
      .catch(() => {});
  } catch {
    // no head start
  }
}

/** The value of the first of `names` (`-r X`, `--repo X`, `--repo=X`), undefined when absent or ambiguous. */
function flag(argv: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (names.includes(a)) return argv[i + 1];
    for (const n of names) if (n.startsWith('--') && a.startsWith(`${n}=`)) return a.slice(n.length + 1);
  }
  return undefined;
}

/** A location that names a local directory (a plain path or local:PATH), resolved; undefined for any other kind. */
function localDir(location: string): string | undefined {
  const path = location.startsWith('local:') ? location.slice('local:'.length) : location;
  if (!isAbsolute(path) && /^[a-z0-9]+:/i.test(path)) return undefined; // sftp:, s3:, rest:, rclone:, ...
  return resolve(path);
}
