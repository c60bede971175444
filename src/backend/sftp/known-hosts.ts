import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH known_hosts files: plain and hashed (`|1|salt|hmac`) host patterns, `[host]:port` names, wildcards and
 * negation, and the `@revoked` marker. `@cert-authority` lines are kept but never match (host certificates are not
 * supported), as are lines that do not parse: OpenSSH skips those too.
 */
export interface KnownHostEntry {
  readonly marker?: 'revoked' | 'cert-authority';
  /** Plain patterns (lower-cased), or one hashed name. */
  readonly hosts: readonly string[] | { readonly salt: Buffer; readonly hash: Buffer };
  readonly keyType: string;
  readonly key: Buffer;
  readonly file: string;
  readonly line: number;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const fields = (lines[i] ?? '').trim().split(/[ \t]+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hostField, keyType, keyB64] = fields;
    if (!hostField || !keyType || !keyB64) continue;
    const key = Buffer.from(keyB64, 'base64');
    // the blob starts with its own type: a line whose type and blob disagree is corrupt
    if (key.length < 4 || blobType(key) !== keyType) continue;
    let hosts: KnownHostEntry['hosts'];
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (!salt || !hash) continue;
      hosts = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
      if (hosts.hash.length !== 20) continue;
    } else {
      hosts = hostField.toLowerCase().split(',').filter(Boolean);
    }
    out.push({ ...(marker ? { marker } : {}), hosts, keyType, key, file, line: i + 1 });
  }
  return out;
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519", "ssh-rsa", ...). */
export function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n > 64 || 4 + n > blob.length) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** The name known_hosts uses for a host: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export function hashHostName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** OpenSSH's wildcard match: `*` any run, `?` one character, nothing else special. */
function wildcard(name: string, pattern: string): boolean {
  let re = '^';
  for (const c of pattern) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  return new RegExp(`${re}$`, 's').test(name);
}

/** Whether the entry's host patterns match `name` (a negated pattern that matches vetoes the line). */
export function entryMatches(e: KnownHostEntry, name: string): boolean {
  if (!Array.isArray(e.hosts)) {
    const h = e.hosts as { salt: Buffer; hash: Buffer };
    return timingSafeEqual(hashHostName(name, h.salt), h.hash);
  }
  let positive = false;
  for (const p of e.hosts as readonly string[]) {
    if (p.startsWith('!')) {
      if (wildcard(name, p.slice(1))) return false;
    } else if (wildcard(name, p)) {
      positive = true;
    }
  }
  return positive;
}

export type HostKeyVerdict =
  | { readonly status: 'ok'; readonly entry: KnownHostEntry }
  | { readonly status: 'revoked'; readonly entry: KnownHostEntry }
  | { readonly status: 'changed'; readonly entry: KnownHostEntry }
  /** Nothing on file for this key type; `otherTypes` lists the types that are on file for the host. */
  | { readonly status: 'unknown'; readonly otherTypes: readonly string[] };

/**
 * Checks a presented host key (its SSH wire blob) against the entries, as OpenSSH does: a matching `@revoked` key
 * is refused, a listed key is accepted, a different key of a listed type has changed, anything else is unknown.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = blobType(blob);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(blob));
  if (same) return { status: 'ok', entry: same };
  const sameType = plain.find((e) => e.keyType === type);
  if (sameType) return { status: 'changed', entry: sameType };
  return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** The key types on file for a host, so the handshake can ask the server for one of those first (as ssh does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  return [...new Set(entries.filter((e) => e.marker === undefined && entryMatches(e, name)).map((e) => e.keyType))];
}

/** SSH host key algorithms that produce keys of a known_hosts key type. */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
