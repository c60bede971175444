import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** The part of an ssh client config (`~/.ssh/config`) that decides where and how to connect. */
export interface SshHostConfig {
  readonly hostName?: string;
  readonly port?: number;
  readonly user?: string;
  readonly identityFiles?: readonly string[];
  readonly identitiesOnly?: boolean;
  readonly knownHostsFiles?: readonly string[];
}

/** Splits a config line into the keyword and its arguments (`Keyword value`, `Keyword=value`, "quoted args"). */
function words(line: string): string[] {
  const m = /^([^\s=]+)(?:\s*=\s*|\s+)(.*)$/.exec(line);
  if (!m) return [line];
  const out = [m[1] ?? ''];
  for (const a of (m[2] ?? '').matchAll(/"([^"]*)"|(\S+)/g)) out.push(a[1] ?? a[2] ?? '');
  return out;
}

function wildcard(name: string, pattern: string): boolean {
  let re = '^';
  for (const c of pattern) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  return new RegExp(`${re}$`, 'is').test(name);
}

/** ssh's Host matching: any positive pattern matches and no negated one does. */
export function hostMatches(alias: string, patterns: readonly string[]): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(alias, p.slice(1))) return false;
    } else if (wildcard(alias, p)) {
      hit = true;
    }
  }
  return hit;
}

/**
 * Reads the settings that apply to `alias` from an ssh config text, as ssh does: the first value of a keyword wins
 * (IdentityFile accumulates), `Host` blocks apply when their patterns match the alias, `Match` blocks are skipped,
 * `Include` reads further files (relative to ~/.ssh). Tokens `~`, `%d` (home), `%h` (host) and `%%` are expanded.
 */
export function parseSshConfig(text: string, alias: string, home: string, readInclude: (path: string) => string | undefined = readOrUndefined, depth = 0): SshHostConfig {
  const r: { -readonly [K in keyof SshHostConfig]: SshHostConfig[K] | undefined } = {};
  const ids: string[] = [];
  let active = true;
  const expand = (v: string, host: string): string => {
    const t = v.replace(/%([%dh])/g, (_, c: string) => (c === '%' ? '%' : c === 'd' ? home : host));
    return t === '~' ? home : t.startsWith('~/') ? join(home, t.slice(2)) : t;
  };
  const apply = (sub: SshHostConfig): void => {
    r.hostName ??= sub.hostName;
    r.port ??= sub.port;
    r.user ??= sub.user;
    r.identitiesOnly ??= sub.identitiesOnly;
    r.knownHostsFiles ??= sub.knownHostsFiles;
    ids.push(...(sub.identityFiles ?? []));
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [kw0, ...args] = words(line);
    const kw = (kw0 ?? '').toLowerCase();
    const value = args[0];
    if (kw === 'host') {
      active = hostMatches(alias, args);
      continue;
    }
    if (kw === 'match') {
      active = args.length === 1 && args[0]?.toLowerCase() === 'all';
      continue;
    }
    if (!active || value === undefined) continue;
    switch (kw) {
      case 'include':
        if (depth < 8) {
          for (const f of args) {
            const path = expand(f, alias);
            const text = readInclude(isAbsolute(path) ? path : join(home, '.ssh', path));
            if (text !== undefined) apply(parseSshConfig(text, alias, home, readInclude, depth + 1));
          }
        }
        break;
      case 'hostname':
        r.hostName ??= expand(value, alias);
        break;
      case 'port': {
        const n = Number(value);
        if (r.port === undefined && Number.isInteger(n) && n > 0 && n < 65536) r.port = n;
        break;
      }
      case 'user':
        r.user ??= value;
        break;
      case 'identityfile':
        if (value.toLowerCase() !== 'none') ids.push(expand(value, r.hostName ?? alias));
        break;
      case 'identitiesonly':
        r.identitiesOnly ??= value.toLowerCase() === 'yes';
        break;
      case 'userknownhostsfile':
        r.knownHostsFiles ??= value.toLowerCase() === 'none' ? [] : args.map((a) => expand(a, alias));
        break;
    }
  }
  if (ids.length) r.identityFiles = ids;
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as SshHostConfig;
}

/** The settings for `alias` from an ssh config file; an absent file holds none. */
export function loadSshConfig(file: string, alias: string, home: string): SshHostConfig {
  const text = readOrUndefined(file);
  return text === undefined ? {} : parseSshConfig(text, alias, home);
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
