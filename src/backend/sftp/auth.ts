import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentAuthMethod, ParsedKey, PublicKeyAuthMethod } from 'ssh2';
import { PermanentError } from '../backend.ts';

export interface AuthSettings {
  readonly user: string;
  /** A key named by the user (-o sftp.key / PYBACKUP_SFTP_KEY / IdentityFile): tried first, and must load. */
  readonly keyFiles: readonly string[];
  /** Passphrase for encrypted keys (PYBACKUP_SFTP_KEY_PASSPHRASE). */
  readonly passphrase?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK). */
  readonly agent?: string;
  /** Keys tried after the agent, skipped quietly when absent or locked: IdentityFile of the ssh config, or else
   *  ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  readonly otherKeyFiles: readonly string[];
}

export type AuthMethod = AgentAuthMethod | PublicKeyAuthMethod;

export interface AuthPlan {
  readonly methods: readonly AuthMethod[];
  /** What was offered, in order, for the "authentication failed" message. */
  readonly tried: readonly string[];
  /** Default keys that were skipped (encrypted and no passphrase), for the same message. */
  readonly skipped: readonly string[];
}

/** The keys ssh tries when none is configured. */
export function defaultKeyFiles(sshDir: string): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(sshDir, n));
}

/**
 * The order ssh uses: the named key, the agent, then the other keys that exist. A named key that is missing,
 * unreadable, encrypted without a passphrase or not a private key is an error; another key like that is skipped.
 */
export async function planAuth(s: AuthSettings): Promise<AuthPlan> {
  // ssh2 loads on first use: commands on other repositories do not pay for it
  const { default: ssh2 } = await import('ssh2');
  const parseKey = ssh2.utils.parseKey;
  const methods: AuthMethod[] = [];
  const tried: string[] = [];
  const skipped: string[] = [];
  for (const file of s.keyFiles) {
    methods.push({ type: 'publickey', username: s.user, key: loadKey(parseKey, file, s.passphrase, true) as ParsedKey });
    tried.push(`key ${file}`);
  }
  if (s.agent) {
    if (existsSync(s.agent)) {
      methods.push({ type: 'agent', username: s.user, agent: s.agent });
      tried.push(`ssh-agent (${s.agent})`);
    } else {
      skipped.push(`ssh-agent: SSH_AUTH_SOCK=${s.agent} does not exist`);
    }
  }
  for (const file of s.otherKeyFiles) {
    if (!existsSync(file)) continue;
    try {
      methods.push({ type: 'publickey', username: s.user, key: loadKey(parseKey, file, s.passphrase, false) as ParsedKey });
      tried.push(`key ${file}`);
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  if (methods.length === 0) {
    const why = skipped.length ? ` (${skipped.join('; ')})` : '';
    throw new PermanentError(
      `no way to authenticate to the SFTP server${why}: start ssh-agent (SSH_AUTH_SOCK), create a key in ~/.ssh (id_ed25519, id_ecdsa or id_rsa), or name one with -o sftp.key=FILE or PYBACKUP_SFTP_KEY`,
    );
  }
  return { methods, tried, skipped };
}

function loadKey(parseKey: typeof import('ssh2').utils.parseKey, file: string, passphrase: string | undefined, named: boolean): ParsedKey {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PermanentError(`cannot read the SSH key ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, { cause: e });
  }
  const parsed = parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | Error | undefined) : parsed;
  if (key instanceof Error || key === undefined) {
    const msg = key?.message ?? 'no key found';
    if (/no passphrase given/i.test(msg)) {
      throw new PermanentError(
        `the SSH key ${file} is encrypted: set PYBACKUP_SFTP_KEY_PASSPHRASE, or load it into ssh-agent (ssh-add ${file})${named ? '' : ', or name another key with -o sftp.key=FILE'}`,
      );
    }
    if (/bad passphrase|integrity check failed/i.test(msg)) {
      throw new PermanentError(`cannot decrypt the SSH key ${file}: wrong passphrase in PYBACKUP_SFTP_KEY_PASSPHRASE?`);
    }
    throw new PermanentError(`the SSH key ${file} cannot be used: ${msg}`);
  }
  if (!key.isPrivateKey()) throw new PermanentError(`${file} is a public key: name the private key file (without .pub)`);
  return key;
}
