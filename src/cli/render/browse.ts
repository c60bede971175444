import { isUtf8Path, rawPath, showPath } from '../../browse/path.ts';
import type { Node, NodeType } from '../../model/node.ts';
import { linkTargetBytes } from '../../model/node.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { TreeEntry } from '../../model/tree-entry.ts';
import { displayName } from '../../browse/path.ts';
import { formatBytes } from './output.ts';

const TYPE_CHAR: Record<NodeType, string> = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', chardev: 'c', blockdev: 'b', socket: 's' };

/** "drwxr-sr-t" as ls shows it (setuid/setgid/sticky as s/S, t/T). */
export function modeString(type: NodeType, mode: number): string {
  const r = (bit: number, ch: string): string => (mode & bit ? ch : '-');
  const x = (exec: number, special: number, on: string, off: string): string => (mode & special ? (mode & exec ? on : off) : mode & exec ? 'x' : '-');
  return (
    TYPE_CHAR[type] +
    r(0o400, 'r') +
    r(0o200, 'w') +
    x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') +
    r(0o020, 'w') +
    x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') +
    r(0o002, 'w') +
    x(0o001, 0o1000, 't', 'T')
  );
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Nanoseconds since the epoch (decimal string) -> "YYYY-MM-DD HH:MM:SS" in local time. */
export function localTimeNs(ns: string): string {
  const d = new Date(Number(BigInt(ns) / 1_000_000n));
  if (Number.isNaN(d.getTime())) return '?';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** An ISO time string -> "YYYY-MM-DD HH:MM:SS" in local time. */
export function localTimeIso(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Nanoseconds -> RFC 3339 UTC with all nine fraction digits kept. */
export function isoNs(ns: string): string {
  const n = BigInt(ns);
  const sec = n / 1_000_000_000n - (n < 0n && n % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = n - sec * 1_000_000_000n;
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return ns;
  return d.toISOString().replace(/\.\d{3}Z$/, `.${String(frac).padStart(9, '0')}Z`);
}

/** The fields the long format shows, from a full node or a catalog entry. */
export interface LongFields {
  readonly type: NodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly user?: string | undefined;
  readonly group?: string | undefined;
  readonly size: number;
  readonly mtime: string;
  readonly linkTarget?: Buffer | undefined;
}

export function fieldsOfNode(n: Node): LongFields {
  return { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, user: n.user, group: n.group, size: n.type === 'file' ? (n.size ?? 0) : 0, mtime: n.mtime, linkTarget: n.type === 'symlink' ? linkTargetBytes(n) : undefined };
}

export function fieldsOfEntry(e: TreeEntry): LongFields {
  return e;
}

/** restic's `ls -l` line: mode, owner, group, size, mtime, path, "-> target" for symlinks. */
export function longLine(f: LongFields, path: string, o: { human?: boolean } = {}): string {
  const size = o.human ? formatBytes(f.size) : String(f.size);
  const target = f.linkTarget ? ` -> ${displayName(f.linkTarget)}` : '';
  return `${modeString(f.type, f.mode)} ${(f.user || String(f.uid)).padStart(5)} ${(f.group || String(f.gid)).padStart(5)} ${size.padStart(o.human ? 10 : 6)} ${localTimeNs(f.mtime)} ${path}${target}`;
}

/** JSON fields of a path: `path` (lossy when not UTF-8) plus `path_raw` (base64) in that case. */
export function jsonPath(parts: readonly Uint8Array[], key = 'path'): Record<string, string> {
  const plain = parts.length === 0 ? '/' : `/${parts.map((p) => Buffer.from(p).toString('utf8')).join('/')}`;
  return isUtf8Path(parts) ? { [key]: plain } : { [key]: plain, [`${key}_raw`]: rawPath(parts).toString('base64') };
}

/** One node as restic's `ls --json` prints it (plus raw-byte fields where needed). */
export function jsonNode(f: LongFields, parts: readonly Buffer[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const name = parts[parts.length - 1] ?? Buffer.alloc(0);
  const nameJson = isUtf8Path([name]) ? { name: name.toString('utf8') } : { name: name.toString('utf8'), name_raw: name.toString('base64') };
  const target = f.linkTarget ? (isUtf8Path([f.linkTarget]) ? { link_target: f.linkTarget.toString('utf8') } : { link_target: f.linkTarget.toString('utf8'), link_target_raw: f.linkTarget.toString('base64') }) : {};
  return {
    ...nameJson,
    type: f.type,
    ...jsonPath(parts),
    uid: f.uid,
    gid: f.gid,
    ...(f.user ? { user: f.user } : {}),
    ...(f.group ? { group: f.group } : {}),
    size: f.size,
    mode: f.mode,
    permissions: modeString(f.type, f.mode),
    mtime: isoNs(f.mtime),
    mtime_ns: f.mtime,
    ...target,
    ...extra,
  };
}

/** restic's snapshot line of `ls --json`. */
export function jsonSnapshot(s: SnapshotWithId): Record<string, unknown> {
  return { ...s, short_id: s.id.slice(0, 8), struct_type: 'snapshot', message_type: 'snapshot' };
}

export function snapshotLabel(s: SnapshotWithId): string {
  return `snapshot ${s.id.slice(0, 8)} of [${s.paths.join(' ')}] at ${localTimeIso(s.time)} by ${s.username}@${s.hostname}`;
}

export { showPath };
