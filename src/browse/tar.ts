/**
 * POSIX tar (pax interchange format) headers, written one entry at a time. A pax extended header ('x') precedes an
 * entry whose fields do not fit ustar: a path or link target too long for the name/prefix fields, a size ≥ 8 GiB,
 * ids ≥ 8^7, owner names over 32 bytes, or an mtime with a fraction of a second or before 1970. Names are raw bytes;
 * a pax path that is not UTF-8 is declared with `hdrcharset=BINARY` (as GNU tar does).
 */

export type TarType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

export interface TarEntry {
  /** raw path bytes, relative; directories without a trailing "/" (it is added) */
  readonly path: Buffer;
  readonly type: TarType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string | undefined;
  readonly gname?: string | undefined;
  /** nanoseconds since the epoch */
  readonly mtimeNs: bigint;
  /** files: content length; 0 for everything else */
  readonly size: number;
  /** symlink target or hardlink's first path (raw) */
  readonly linkTarget?: Buffer | undefined;
  readonly devMajor?: number | undefined;
  readonly devMinor?: number | undefined;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6' };
const STRICT = new TextDecoder('utf-8', { fatal: true });

/** The two zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): Buffer {
  const r = size % BLOCK;
  return Buffer.alloc(r === 0 ? 0 : BLOCK - r);
}

/** Header block(s) for one entry: a pax header (with its data) when needed, then the ustar header. */
export function tarHeader(e: TarEntry): Buffer {
  const path = e.type === 'dir' && e.path[e.path.length - 1] !== 0x2f ? Buffer.concat([e.path, Buffer.from('/')]) : e.path;
  const pax: [string, Buffer][] = [];
  const split = splitUstarPath(path);
  if (!split) pax.push(['path', path]);
  const link = e.linkTarget ?? Buffer.alloc(0);
  if (link.length > 100) pax.push(['linkpath', link]);
  if (e.size > 0o77777777777) pax.push(['size', Buffer.from(String(e.size))]);
  if (e.uid > 0o7777777 || e.uid < 0) pax.push(['uid', Buffer.from(String(e.uid))]);
  if (e.gid > 0o7777777 || e.gid < 0) pax.push(['gid', Buffer.from(String(e.gid))]);
  const uname = Buffer.from(e.uname ?? '', 'utf8');
  const gname = Buffer.from(e.gname ?? '', 'utf8');
  if (uname.length > 32) pax.push(['uname', uname]);
  if (gname.length > 32) pax.push(['gname', gname]);
  const sec = e.mtimeNs / 1_000_000_000n - (e.mtimeNs < 0n && e.mtimeNs % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = e.mtimeNs - sec * 1_000_000_000n;
  if (frac !== 0n || sec < 0n || sec > 0o77777777777n) pax.push(['mtime', Buffer.from(paxTime(sec, frac))]);
  const parts: Buffer[] = [];
  if (pax.length > 0) {
    if (pax.some(([k, v]) => (k === 'path' || k === 'linkpath') && !isUtf8(v))) pax.unshift(['hdrcharset', Buffer.from('BINARY')]);
    const data = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
    const base = path.subarray(path.lastIndexOf(0x2f, path.length - 2) + 1).subarray(0, 80);
    parts.push(
      ustar({ name: Buffer.concat([Buffer.from('PaxHeaders/'), base]), prefix: Buffer.alloc(0), type: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: clampSec(sec) }),
      data,
      tarPadding(data.length),
    );
  }
  const s = split ?? { prefix: Buffer.alloc(0), name: path.subarray(Math.max(0, path.length - 100)) };
  parts.push(
    ustar({
      name: s.name,
      prefix: s.prefix,
      type: TYPEFLAG[e.type],
      mode: e.mode & 0o7777,
      uid: e.uid > 0o7777777 || e.uid < 0 ? 0 : e.uid,
      gid: e.gid > 0o7777777 || e.gid < 0 ? 0 : e.gid,
      size: e.size > 0o77777777777 ? 0 : e.size,
      mtime: clampSec(sec),
      link: link.subarray(0, 100),
      uname: uname.subarray(0, 32),
      gname: gname.subarray(0, 32),
      devMajor: e.devMajor ?? 0,
      devMinor: e.devMinor ?? 0,
    }),
  );
  return Buffer.concat(parts);
}

function clampSec(sec: bigint): number {
  return Number(sec < 0n ? 0n : sec > 0o77777777777n ? 0o77777777777n : sec);
}

function paxTime(sec: bigint, frac: bigint): string {
  if (frac === 0n) return String(sec);
  // a negative time with a fraction is written as -(whole).(fraction) of the magnitude, per pax
  const ns = sec * 1_000_000_000n + frac;
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const f = String(abs % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}${f ? `.${f}` : ''}`;
}

/** "LEN key=value\n" where LEN counts the whole record in bytes, itself included. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = 1 + Buffer.byteLength(key) + 1 + value.length + 1;
  const digits = String(body).length;
  let len = body + digits;
  if (String(len).length > digits) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function isUtf8(b: Uint8Array): boolean {
  try {
    STRICT.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Fits a path into ustar's name (100) + prefix (155) split at a "/", or undefined. */
function splitUstarPath(p: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (p.length <= 100) return { prefix: Buffer.alloc(0), name: p };
  if (p.length > 256) return undefined;
  for (let i = p.length - 1; i > 0; i--) {
    if (p[i] !== 0x2f || i === p.length - 1) continue;
    if (i > 155) continue;
    if (p.length - i - 1 > 100) return undefined;
    return { prefix: p.subarray(0, i), name: p.subarray(i + 1) };
  }
  return undefined;
}

interface Ustar {
  name: Buffer;
  prefix: Buffer;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  link?: Buffer;
  uname?: Buffer;
  gname?: Buffer;
  devMajor?: number;
  devMinor?: number;
}

function ustar(h: Ustar): Buffer {
  const b = Buffer.alloc(BLOCK);
  h.name.copy(b, 0, 0, 100);
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.type, 156, 'latin1');
  h.link?.copy(b, 157, 0, 100);
  b.write('ustar\u000000', 257, 'latin1');
  h.uname?.copy(b, 265, 0, 32);
  h.gname?.copy(b, 297, 0, 32);
  octal(b, 329, 8, h.devMajor ?? 0);
  octal(b, 337, 8, h.devMinor ?? 0);
  h.prefix.copy(b, 345, 0, 155);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return b;
}

/** A zero-padded octal number of width-1 digits and a NUL. */
function octal(b: Buffer, at: number, width: number, n: number): void {
  b.write(`${Math.max(0, Math.trunc(n)).toString(8).padStart(width - 1, '0')}\u0000`, at, 'latin1');
}
