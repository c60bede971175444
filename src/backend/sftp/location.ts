import { posix } from 'node:path';
import { UsageError } from '../../errors.ts';

/**
 * Where an SFTP repository lives. `user` and `port` are absent when the location does not name them (the ssh
 * config or the defaults fill them in). `path` is absolute ("/srv/repo") or relative to the login directory.
 */
export interface SftpLocation {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  readonly path: string;
}

/**
 * Parses restic's two spellings:
 *   sftp:[user@]host:path         path after the first ":" (absolute, or relative to the login directory);
 *                                 an IPv6 host goes in brackets: sftp:user@[::1]:/srv/repo
 *   sftp://[user@]host[:port]/path  URL form; as in restic, the path after the host's "/" is relative to the login
 *                                 directory, so an absolute path needs two slashes: sftp://host//srv/repo
 * Passwords in the location are refused: credentials never travel in argv.
 */
export function parseSftpLocation(location: string): SftpLocation {
  if (!location.startsWith('sftp:')) throw bad(location, 'it does not start with "sftp:"');
  for (let i = 0; i < location.length; i++) {
    const c = location.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw bad(location.replace(/[^\x20-\x7e]/g, '?'), 'it contains control characters');
  }
  return location.startsWith('sftp://') ? parseUrlForm(location) : parseScpForm(location);
}

function parseScpForm(location: string): SftpLocation {
  const rest = location.slice('sftp:'.length);
  const v6 = /^(?:(.*)@)?\[([^\]]*)\]:(.*)$/s.exec(rest);
  if (v6) return finish(location, v6[1], v6[2] ?? '', undefined, v6[3] ?? '');
  const colon = rest.indexOf(':');
  if (colon < 0) throw bad(location, 'expected ":" and a path after the host, as in sftp:user@host:/srv/repo');
  const userHost = rest.slice(0, colon);
  // the host follows the last "@": user names may contain "@" (restic allows it too)
  const at = userHost.lastIndexOf('@');
  return finish(location, at >= 0 ? userHost.slice(0, at) : undefined, userHost.slice(at + 1), undefined, rest.slice(colon + 1));
}

function parseUrlForm(location: string): SftpLocation {
  const rest = location.slice('sftp://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad(location, 'no path: use sftp://user@host:port//absolute/path or sftp://user@host:port/relative/path');
  const authority = rest.slice(0, slash);
  const rawPath = rest.slice(slash + 1);
  let user: string | undefined;
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    if (userInfo.includes(':')) {
      throw bad(location, 'passwords in the location are not supported; use a key (-o sftp.key=FILE) or ssh-agent');
    }
    user = decode(location, userInfo);
  }
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad(location, 'the "[" of an IPv6 address is not closed');
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad(location, `unexpected "${after}" after the host`);
    if (after) portText = after.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
    if (colon >= 0) portText = hostPort.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw bad(location, `invalid port "${portText}" (expected 1-65535)`);
    }
    port = Number(portText);
  }
  return finish(location, user, decode(location, host), port, decode(location, rawPath));
}

function finish(location: string, user: string | undefined, host: string, port: number | undefined, path: string): SftpLocation {
  if (user !== undefined && user === '') throw bad(location, 'empty user name before "@"');
  if (user !== undefined && /[\s:/]/.test(user)) throw bad(location, `invalid user name ${JSON.stringify(user)}`);
  if (!host) throw bad(location, 'no host name');
  if (!/^[A-Za-z0-9._:%-]+$/.test(host) || host.startsWith('-')) throw bad(location, `invalid host name ${JSON.stringify(host)}`);
  if (!path) throw bad(location, 'no directory given after the host');
  if (path.startsWith('~')) {
    throw bad(location, 'the path starts with "~", which SFTP servers do not expand; a relative path is relative to the login directory already');
  }
  let clean = posix.normalize(path);
  if (clean.length > 1 && clean.endsWith('/')) clean = clean.slice(0, -1);
  if (clean === '.' || clean === '..' || clean.startsWith('../')) {
    throw bad(location, 'the path must name a directory below the login directory, or be absolute');
  }
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}), path: clean };
}

function decode(location: string, s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(location, `invalid percent-encoding in ${JSON.stringify(s)}`);
  }
}

function bad(location: string, why: string): UsageError {
  return new UsageError(`invalid SFTP location ${JSON.stringify(redact(location))}: ${why}`);
}

/** Hides a password given in the URL form ("sftp://user:secret@host") so it never reaches a message or a log. */
function redact(location: string): string {
  return location.replace(/^(sftp:\/\/[^/@:]*):[^/]*@/, '$1:***@');
}

/**
 * The canonical text of a location: the scp-like form when it has no port, the URL form otherwise. Both parse back
 * to the same location. There are no credentials to leave out: locations never hold any.
 */
export function formatSftpLocation(l: SftpLocation): string {
  if (l.port === undefined) return `sftp:${l.user !== undefined ? `${l.user}@` : ''}${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.path}`;
  const host = l.host.includes(':') ? `[${encodeURIComponent(l.host).replace(/%3A/g, ':')}]` : encodeURIComponent(l.host);
  const user = l.user !== undefined ? `${encodeURIComponent(l.user)}@` : '';
  const path = encodeURI(l.path).replace(/[?#]/g, (c) => encodeURIComponent(c));
  return `sftp://${user}${host}${l.port !== undefined ? `:${l.port}` : ''}/${path}`;
}
