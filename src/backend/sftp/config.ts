import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { defaultKeyFiles } from './auth.ts';
import type { ConnectSettings } from './connect.ts';
import { type SftpLocation, parseSftpLocation } from './location.ts';
import { type SshHostConfig, loadSshConfig } from './ssh-config.ts';

export interface SftpConfig extends ConnectSettings {
  readonly location: SftpLocation;
  /** The repository directory on the server: absolute, or relative to the login directory. */
  readonly path: string;
  /** SSH connections to use at most (-o sftp.connections, default 2). */
  readonly connections: number;
}

const wholeNumber = (min: number, max: number) => (v: string): string | undefined =>
  /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `expected a whole number from ${min} to ${max}`;
const nonEmpty = (v: string): string | undefined => (v ? undefined : 'expected a file name');
const external = (): string =>
  'PyBackup speaks SSH itself (no ssh program is run): name the key with -o sftp.key=FILE, the known_hosts file with -o sftp.known_hosts=FILE, and host aliases, ports and users in ~/.ssh/config';

/** The `-o` options the SFTP backend understands (restic's sftp.command / sftp.args are explained away). */
export const SFTP_OPTION_SPECS: Record<string, { readonly help: string; readonly check: (v: string) => string | undefined }> = {
  'sftp.key': { help: 'private key file (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)', check: nonEmpty },
  'sftp.known_hosts': { help: 'known_hosts file (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)', check: nonEmpty },
  'sftp.ssh_config': { help: 'ssh client config for Host aliases, or "none" (default ~/.ssh/config)', check: nonEmpty },
  'sftp.connections': { help: 'parallel SSH connections, 1-8 (default 2)', check: wholeNumber(1, 8) },
  'sftp.connect_timeout': { help: 'SSH handshake timeout in seconds (default 20)', check: wholeNumber(1, 600) },
  'sftp.command': { help: "restic's; refused: PyBackup runs no ssh program", check: external },
  'sftp.args': { help: "restic's; refused: PyBackup runs no ssh program", check: external },
};
const SFTP_OPTIONS = Object.keys(SFTP_OPTION_SPECS);

/**
 * Everything needed to reach an SFTP repository, from the location, `-o sftp.*` options and the environment:
 *   sftp.key=FILE / PYBACKUP_SFTP_KEY                     the private key to use (else ssh-agent, then ~/.ssh/id_*)
 *   PYBACKUP_SFTP_KEY_PASSPHRASE                          passphrase of an encrypted key
 *   sftp.known_hosts=FILE / PYBACKUP_SFTP_KNOWN_HOSTS     known_hosts file (default ~/.ssh/known_hosts and
 *                                                         /etc/ssh/ssh_known_hosts)
 *   sftp.ssh_config=FILE|none / PYBACKUP_SFTP_SSH_CONFIG  ssh client config for Host aliases (default ~/.ssh/config)
 *   sftp.connections=N                                    parallel SSH connections (1-8, default 2)
 *   sftp.connect_timeout=SECONDS                          handshake timeout (default 20)
 */
export function sftpConfigFrom(location: string, env: NodeJS.ProcessEnv, options: ReadonlyMap<string, string> = new Map()): SftpConfig {
  for (const [k, v] of options) {
    if (!k.startsWith('sftp.')) continue;
    const spec = SFTP_OPTION_SPECS[k];
    if (!spec) throw new UsageError(`unknown option -o ${k} (the SFTP backend knows ${SFTP_OPTIONS.filter((o) => o !== 'sftp.command' && o !== 'sftp.args').join(', ')})`);
    const problem = spec.check(v);
    if (problem) throw new UsageError(`-o ${k}=${v}: ${problem}`);
  }
  const loc = parseSftpLocation(location);
  const home = env.HOME || homedir();
  const sshDir = join(home, '.ssh');
  const expand = (p: string): string => (p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p);
  const configFile = options.get('sftp.ssh_config') ?? env.PYBACKUP_SFTP_SSH_CONFIG ?? join(sshDir, 'config');
  const host: SshHostConfig = configFile === 'none' ? {} : loadSshConfig(expand(configFile), loc.host, home);
  const key = options.get('sftp.key') ?? env.PYBACKUP_SFTP_KEY;
  const knownHosts = options.get('sftp.known_hosts') ?? env.PYBACKUP_SFTP_KNOWN_HOSTS;
  const user = loc.user ?? host.user ?? localUser(env);
  const hostName = host.hostName ?? loc.host;
  const port = loc.port ?? host.port ?? 22;
  return {
    location: loc,
    path: loc.path,
    host: hostName,
    port,
    auth: {
      user,
      keyFiles: key ? [expand(key)] : [],
      // a named key is the only key file (as `ssh -i KEY -o IdentitiesOnly=yes`); else the ssh config's, else ssh's defaults
      otherKeyFiles: key ? [] : (host.identityFiles ?? (host.identitiesOnly ? [] : defaultKeyFiles(sshDir))),
      ...(env.PYBACKUP_SFTP_KEY_PASSPHRASE !== undefined ? { passphrase: env.PYBACKUP_SFTP_KEY_PASSPHRASE } : {}),
      ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
    },
    knownHosts: knownHosts ? [expand(knownHosts)] : (host.knownHostsFiles ?? [join(sshDir, 'known_hosts'), '/etc/ssh/ssh_known_hosts']),
    readyTimeoutMs: intOption(options, 'sftp.connect_timeout', 20) * 1000,
    keepaliveMs: 15_000,
    connections: intOption(options, 'sftp.connections', 2),
  };
}

function intOption(options: ReadonlyMap<string, string>, key: string, dflt: number): number {
  const v = options.get(key);
  return v === undefined ? dflt : Number(v);
}

function localUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    const u = env.USER ?? env.LOGNAME;
    if (!u) throw new UsageError('cannot tell the local user name: put the user into the location (sftp:user@host:/path)');
    return u;
  }
}
