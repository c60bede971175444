/**
 * A minimal writer for the "newc" cpio format (the Linux initramfs format, `cpio -H newc`): directories, regular
 * files and symlinks, enough to build the test VM's initramfs without a cpio binary on the host.
 */

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const TRAILER = 'TRAILER!!!';

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function record(ino: number, mode: number, nlink: number, name: string, data: Uint8Array): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const header = Buffer.from(
    ['070701', hex8(ino), hex8(mode), hex8(0), hex8(0), hex8(nlink), hex8(0), hex8(data.length), hex8(0), hex8(0), hex8(0), hex8(0), hex8(nameBytes.length), hex8(0)].join(''),
    'ascii',
  );
  // the header is 110 bytes; header + name is padded to a multiple of 4, and so is the data
  return [header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), Buffer.from(data), Buffer.alloc(pad4(data.length))];
}

/** Relative, normalized archive path ("bin/busybox"); rejects absolute paths, "..", empty segments and NULs. */
function archivePath(p: string): string {
  const parts = p.split('/');
  if (p === '' || p.startsWith('/') || p.includes('\0') || parts.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`bad cpio path: ${JSON.stringify(p)}`);
  }
  return p;
}

/** The archive bytes of `entries`, in order (parents must come before their children), plus the trailer. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = archivePath(e.path);
    if (e.kind === 'dir') chunks.push(...record(ino++, S_IFDIR | (e.mode ?? 0o755), 2, name, new Uint8Array()));
    else if (e.kind === 'file') chunks.push(...record(ino++, S_IFREG | (e.mode ?? 0o644), 1, name, e.data));
    else chunks.push(...record(ino++, S_IFLNK | 0o777, 1, name, Buffer.from(e.target, 'utf8')));
  }
  chunks.push(...record(0, 0, 1, TRAILER, new Uint8Array()));
  return Buffer.concat(chunks);
}

/** Parses a newc archive back into entries (for tests); throws on a malformed archive. */
export function parseCpio(buf: Uint8Array): CpioEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: CpioEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > b.length) throw new Error('truncated cpio header');
    const h = b.toString('ascii', off, off + 110);
    if (!h.startsWith('070701')) throw new Error(`bad cpio magic at ${off}`);
    const field = (i: number): number => Number.parseInt(h.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameEnd = off + 110 + nameSize;
    const dataStart = nameEnd + pad4(110 + nameSize);
    if (nameSize < 1 || dataStart + size > b.length) throw new Error('truncated cpio entry');
    const name = b.toString('utf8', off + 110, nameEnd - 1);
    const data = new Uint8Array(b.subarray(dataStart, dataStart + size));
    off = dataStart + size + pad4(size);
    if (name === TRAILER) return out;
    const type = mode & 0o170000;
    if (type === S_IFDIR) out.push({ kind: 'dir', path: name, mode: mode & 0o7777 });
    else if (type === S_IFREG) out.push({ kind: 'file', path: name, data, mode: mode & 0o7777 });
    else if (type === S_IFLNK) out.push({ kind: 'symlink', path: name, target: Buffer.from(data).toString('utf8') });
    else throw new Error(`unsupported cpio entry type ${type.toString(8)} for ${name}`);
  }
}
