import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { AbortedError } from '../../errors.ts';
import { PermanentError, TransientError } from '../backend.ts';
import { type AuthSettings, planAuth } from './auth.ts';
import { isNetworkError } from './errors.ts';
import { type HostKeyVerdict, type KnownHostEntry, algorithmsForKeyType, blobType, checkHostKey, knownHostsName, knownKeyTypes, parseKnownHosts } from './known-hosts.ts';
import { SftpSession } from './session.ts';

export interface ConnectSettings {
  readonly host: string;
  readonly port: number;
  readonly auth: AuthSettings;
  /** known_hosts files, all consulted; missing files hold nothing. */
  readonly knownHosts: readonly string[];
  readonly readyTimeoutMs: number;
  readonly keepaliveMs: number;
}

const SUPPORTED_HOST_KEY_TYPES = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new PermanentError(`cannot read the known_hosts file ${f}: ${(e as Error).message}`, { cause: e });
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

/** The loud, actionable error for a host key that is not the one on file (or not on file at all). */
function hostKeyError(s: ConnectSettings, v: HostKeyVerdict, blob: Buffer): PermanentError {
  const name = knownHostsName(s.host, s.port);
  const type = blobType(blob) ?? 'unknown';
  const fp = `${type} ${fingerprint(blob)}`;
  const userFile = s.knownHosts[0] ?? '~/.ssh/known_hosts';
  const keyscan = `ssh-keyscan ${s.port === 22 ? '' : `-p ${s.port} `}-t ${type} ${s.host} >> ${userFile}`;
  if (v.status === 'changed') {
    return new PermanentError(
      `WARNING: the host key for ${name} has CHANGED (it now presents ${fp}; ${v.entry.file}:${v.entry.line} holds another ${v.entry.keyType} key). ` +
        `Someone may be intercepting the connection (man-in-the-middle attack), or the server's key was replaced. ` +
        `Nothing was sent. If you know the change is legitimate, remove the old key with \`ssh-keygen -R '${name}' -f ${v.entry.file}\` and add the new one.`,
    );
  }
  if (v.status === 'revoked') {
    return new PermanentError(`the host key of ${name} (${fp}) is marked @revoked in ${v.entry.file}:${v.entry.line}: refusing to connect`);
  }
  const others = v.status === 'unknown' && v.otherTypes.length ? ` (keys of other types are on file for it: ${v.otherTypes.join(', ')})` : '';
  return new PermanentError(
    `the host key of ${name} is not known${others}: it presents ${fp}, which is in none of ${s.knownHosts.join(', ') || 'the known_hosts files'}. ` +
      `Check the fingerprint with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-.*$/g, '')}_key.pub on the server), then add it: ${keyscan} (or connect once with ssh)`,
  );
}

/**
 * Opens an SSH connection and its SFTP channel. The host key must be in known_hosts (no trust on first use: a backup
 * job has nobody to ask); authentication follows planAuth. Host key and authentication problems are PermanentError,
 * connection failures and timeouts TransientError.
 */
export async function openSession(s: ConnectSettings, signal?: AbortSignal): Promise<SftpSession> {
  const plan = await planAuth(s.auth);
  const entries = loadKnownHosts(s.knownHosts);
  const preferred = knownKeyTypes(entries, s.host, s.port).filter((t) => SUPPORTED_HOST_KEY_TYPES.has(t)).flatMap(algorithmsForKeyType) as ServerHostKeyAlgorithm[];
  const where = `${s.auth.user}@${s.host}:${s.port}`;
  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  let rejected: PermanentError | undefined;
  return await new Promise<SftpSession>((resolve, reject) => {
    let done = false;
    let lastError: Error | undefined;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      (client as unknown as { destroy?: () => void }).destroy?.();
      reject(e);
    };
    const onAbort = (): void => fail(new AbortedError('interrupted', { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (e: Error & { level?: string; code?: unknown }) => {
      lastError = e;
      fail(classifyConnectError(e, s, where, plan.tried, plan.skipped, rejected));
    });
    client.on('close', () => fail(rejected ?? (lastError ? classifyConnectError(lastError, s, where, plan.tried, plan.skipped, undefined) : new TransientError(`the SSH connection to ${where} closed during the handshake`))));
    // requests are small and answered one by one: Nagle's algorithm would hold each back for the delayed ACK
    client.on('connect', () => client.setNoDelay(true));
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return fail(new PermanentError(`${where} offers no SFTP service: ${err.message}`, { cause: err }));
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('error');
        client.removeAllListeners('close');
        resolve(new SftpSession(client, sftp, where));
      });
    });
    const config: ConnectConfig = {
      host: s.host,
      port: s.port,
      username: s.auth.user,
      authHandler: [...plan.methods],
      readyTimeout: s.readyTimeoutMs,
      keepaliveInterval: s.keepaliveMs,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer): boolean => {
        const v = checkHostKey(entries, s.host, s.port, key);
        if (v.status !== 'ok') rejected = hostKeyError(s, v, key);
        return v.status === 'ok';
      },
    };
    if (preferred.length) config.algorithms = { serverHostKey: { remove: preferred, prepend: preferred, append: [] } };
    try {
      client.connect(config);
    } catch (e) {
      fail(new PermanentError(`cannot connect to ${where}: ${(e as Error).message}`, { cause: e }));
    }
  });
}

function classifyConnectError(
  e: Error & { level?: string; code?: unknown },
  s: ConnectSettings,
  where: string,
  tried: readonly string[],
  skipped: readonly string[],
  rejected: PermanentError | undefined,
): Error {
  if (rejected) return rejected;
  if (e.level === 'client-authentication' || /authentication/i.test(e.message)) {
    const skip = skipped.length ? `; skipped: ${skipped.join('; ')}` : '';
    return new PermanentError(
      `authentication to ${where} failed: the server accepted none of ${tried.join(', ')}${skip}. ` +
        `Add the public key to ~/.ssh/authorized_keys on the server, or name the right key with -o sftp.key=FILE or PYBACKUP_SFTP_KEY`,
      { cause: e },
    );
  }
  if (e.code === 'ENOTFOUND') return new PermanentError(`cannot resolve the SFTP host name ${JSON.stringify(s.host)}`, { cause: e });
  if (e.level === 'client-timeout') return new TransientError(`no SSH handshake with ${where} within ${s.readyTimeoutMs / 1000} s`, { cause: e });
  if (isNetworkError(e) || e.level === 'client-socket') {
    return new TransientError(`cannot connect to ${where}: ${typeof e.code === 'string' ? e.code : e.message}`, { cause: e });
  }
  if (e.level === 'handshake') return new PermanentError(`SSH handshake with ${where} failed: ${e.message}`, { cause: e });
  return new TransientError(`SSH connection to ${where} failed: ${e.message}`, { cause: e });
}
