import { UsageError } from '../../errors.ts';

/** A parsed `rest:` location. `url` carries no credentials; `authorization` is the Basic header, if any. */
export interface RestLocation {
  /** http(s)://host[:port]/path/ with a trailing slash, without user or password. */
  readonly url: URL;
  /** The location as shown to users: `rest:` + url, with the user name but never the password. */
  readonly display: string;
  readonly username?: string;
  readonly authorization?: string;
}

/** Environment variables that supply credentials the URL leaves out. */
export const REST_USER_ENV = 'PYBACKUP_REST_USERNAME';
export const REST_PASSWORD_ENV = 'PYBACKUP_REST_PASSWORD';

const EXAMPLE = 'rest:http://host:8000/path or rest:https://user:pass@host/path';

/**
 * Parses `rest:http(s)://[user[:password]@]host[:port][/path]`. User and password are percent-decoded; what the URL
 * lacks comes from PYBACKUP_REST_USERNAME / PYBACKUP_REST_PASSWORD. Error messages never repeat the password.
 */
export function parseRestLocation(location: string, env: NodeJS.ProcessEnv = process.env): RestLocation {
  if (!location.startsWith('rest:')) throw bad(location, 'it does not start with "rest:"');
  const raw = location.slice('rest:'.length);
  // oxlint-disable-next-line no-control-regex -- control characters are what is being matched
  if (/[\u0000-\u001f\u007f\s]/.test(raw)) throw bad(location, 'it contains spaces or control characters');
  if (!/^https?:\/\//i.test(raw)) throw bad(location, 'the URL must start with http:// or https://');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad(location, 'it is not a valid URL');
  }
  if (!url.hostname) throw bad(location, 'the URL has no host');
  if (url.search || url.hash) throw bad(location, 'the URL must not have a query ("?") or fragment ("#")');
  let username = decode(location, url.username, 'user name');
  let password = decode(location, url.password, 'password');
  if (!username && env[REST_USER_ENV]) username = env[REST_USER_ENV];
  if (!password && env[REST_PASSWORD_ENV]) password = env[REST_PASSWORD_ENV];
  if (password && !username) throw bad(location, `a password without a user name (set the user in the URL or ${REST_USER_ENV})`);
  url.username = '';
  url.password = '';
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  const shown = new URL(url.href);
  if (username) shown.username = encodeURIComponent(username);
  return {
    url,
    display: `rest:${shown.href}`,
    ...(username ? { username } : {}),
    ...(username ? { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}` } : {}),
  };
}

/**
 * The location with any password in it replaced by "***", for messages about locations that did not parse. It
 * errs on the safe side: everything between "://" and the last "@" is treated as user info.
 */
export function redactLocation(location: string): string {
  const m = /^(rest:[^:]*:\/\/)(.*)$/is.exec(location);
  if (!m) return location;
  const rest = m[2] ?? '';
  const at = rest.lastIndexOf('@');
  if (at < 0) return location;
  const colon = rest.slice(0, at).indexOf(':');
  return colon < 0 ? location : `${m[1]}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

function decode(location: string, s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad(location, `the ${what} has an invalid %-escape`);
  }
}

function bad(location: string, why: string): UsageError {
  return new UsageError(`invalid REST repository location "${redactLocation(location)}": ${why} (expected ${EXAMPLE})`);
}
