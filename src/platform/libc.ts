/**
 * Thin, synchronous bindings to the few libc calls Node does not expose and a backup tool needs:
 * nanosecond timestamps without following symlinks (utimensat), extended attributes on the link itself
 * (llistxattr / lgetxattr / lsetxattr), and special files (mknod / mkfifo).
 *
 * Uses the experimental `node:ffi` module, loaded lazily on first use (Linux + glibc only). When it is not
 * available (other platforms, `--no-experimental-ffi`, the permission model without `--allow-ffi`), every
 * function degrades to the best pure-Node or external-tool alternative, described per function.
 *
 * Hot path notes (these are called once per file for 100k+ files):
 * - paths and xattr names are encoded into reusable NUL-terminated scratch buffers whose raw addresses are
 *   cached, so a call performs no allocation except for the returned data;
 * - list/get use one reusable value buffer, grown on ERANGE, so a file without xattrs costs exactly one syscall;
 * - errno is read from the cached `__errno_location()` address right after a -1 return. That address is
 *   per thread; every worker thread loads its own copy of this module and so resolves its own.
 *
 * Paths may be `Buffer` (raw bytes, possibly not UTF-8, must not contain NUL) or `string` (encoded as UTF-8).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type * as FfiModule from 'node:ffi';
import * as util from 'node:util';
import { InvalidInputError, PyBackupError, errnoCode } from '../errors.ts';

export type PathLike = Buffer | string;

/** An `IO` error from a system call. `errno` is the symbolic name ('ENOENT', 'ENOTSUP', ...). */
export class LibcError extends PyBackupError {
  readonly errno: string;
  readonly syscall: string;
  readonly path: PathLike;
  constructor(syscall: string, path: PathLike, errno: string, detail?: string, options?: { cause?: unknown }) {
    super('IO', `${syscall} ${displayPath(path)}: ${detail ?? errnoMessage(errno)}`, options);
    this.errno = errno;
    this.syscall = syscall;
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// errno names and messages (Linux numbering; the FFI path is Linux-only)

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'EPERM'],
  [2, 'ENOENT'],
  [5, 'EIO'],
  [7, 'E2BIG'],
  [9, 'EBADF'],
  [12, 'ENOMEM'],
  [13, 'EACCES'],
  [17, 'EEXIST'],
  [18, 'EXDEV'],
  [20, 'ENOTDIR'],
  [21, 'EISDIR'],
  [22, 'EINVAL'],
  [28, 'ENOSPC'],
  [30, 'EROFS'],
  [34, 'ERANGE'],
  [36, 'ENAMETOOLONG'],
  [40, 'ELOOP'],
  [61, 'ENODATA'],
  [95, 'ENOTSUP'], // == EOPNOTSUPP on Linux
  [122, 'EDQUOT'],
]);

const ERRNO_MESSAGES: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ERANGE: 'Numerical result out of range',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  ENODATA: 'No data available',
  ENOTSUP: 'Operation not supported',
  EOPNOTSUPP: 'Operation not supported',
  EDQUOT: 'Disk quota exceeded',
};

function errnoName(n: number): string {
  const known = ERRNO_NAMES.get(n);
  if (known !== undefined) return known;
  if (n <= 0) return 'UNKNOWN';
  try {
    return util.getSystemErrorName(-n);
  } catch {
    return `errno ${n}`;
  }
}

function errnoMessage(name: string): string {
  const known = ERRNO_MESSAGES[name];
  if (known !== undefined) return known;
  const n = (os.constants.errno as Readonly<Record<string, number | undefined>>)[name];
  if (n !== undefined) {
    try {
      return util.getSystemErrorMessage(-n);
    } catch {
      /* fall through */
    }
  }
  return name;
}

/** A path for messages: strings as-is, byte paths as UTF-8 where valid, otherwise with \xNN escapes. */
function displayPath(p: PathLike): string {
  if (typeof p === 'string') return p;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(p);
  } catch {
    let s = '';
    for (const b of p) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    return s;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// lazy FFI loading

type Ffi = typeof FfiModule;

const DEFINITIONS = {
  __errno_location: { arguments: [], return: 'pointer' },
  utimensat: { arguments: ['i32', 'pointer', 'pointer', 'i32'], return: 'i32' },
  futimens: { arguments: ['i32', 'pointer'], return: 'i32' },
  llistxattr: { arguments: ['pointer', 'pointer', 'u64'], return: 'i64' },
  lgetxattr: { arguments: ['pointer', 'pointer', 'pointer', 'u64'], return: 'i64' },
  flistxattr: { arguments: ['i32', 'pointer', 'u64'], return: 'i64' },
  fgetxattr: { arguments: ['i32', 'pointer', 'pointer', 'u64'], return: 'i64' },
  lsetxattr: { arguments: ['pointer', 'pointer', 'pointer', 'u64', 'i32'], return: 'i32' },
  mknod: { arguments: ['pointer', 'u32', 'u64'], return: 'i32' },
  mkfifo: { arguments: ['pointer', 'u32'], return: 'i32' },
} as const;

type LibcFunctions = FfiModule.WrappedFunctionsFromDefinitions<typeof DEFINITIONS>;

interface Scratch {
  buf: Buffer;
  ptr: bigint;
  size: bigint; // buf.length as a bigint, for u64 arguments
}

interface Libc {
  readonly ffi: Ffi;
  readonly f: LibcFunctions;
  readonly errnoPtr: bigint;
  readonly path: Scratch;
  readonly name: Scratch;
  readonly value: Scratch;
  readonly times: BigInt64Array;
  readonly timesPtr: bigint;
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_OMIT = 0x3ffffffen;
const ERANGE = 34;
const ENODATA = 61;
const ENOTSUP = 95;
const NS_PER_S = 1_000_000_000n;
const INITIAL_VALUE_SCRATCH = 4096;

let loaded = false;
let libc: Libc | undefined;

function newScratch(ffi: Ffi, bytes: number): Scratch {
  // Buffer.allocUnsafeSlow: an own, non-pooled, off-heap ArrayBuffer, so the raw address stays valid as long
  // as this object references it.
  const buf = Buffer.allocUnsafeSlow(bytes);
  return { buf, ptr: ffi.getRawPointer(buf), size: BigInt(bytes) };
}

function growScratch(ffi: Ffi, s: Scratch, atLeast: number): void {
  let bytes = s.buf.length;
  while (bytes < atLeast) bytes *= 2;
  const buf = Buffer.allocUnsafeSlow(bytes);
  s.buf = buf;
  s.ptr = ffi.getRawPointer(buf);
  s.size = BigInt(bytes);
}

function load(): Libc | undefined {
  if (loaded) return libc;
  loaded = true;
  if (process.platform !== 'linux') return undefined;
  try {
    const ffi = process.getBuiltinModule('node:ffi') as Ffi | undefined;
    if (ffi === undefined || typeof ffi.dlopen !== 'function') return undefined;
    const { functions: f } = ffi.dlopen('libc.so.6', DEFINITIONS);
    // Resolve errno's address once, before any failing call: resolving it lazily right after a failure would
    // itself clobber errno.
    const errnoPtr = f['__errno_location']();
    const times = new BigInt64Array(new ArrayBuffer(32));
    libc = {
      ffi,
      f,
      errnoPtr,
      path: newScratch(ffi, 16384),
      name: newScratch(ffi, 512),
      value: newScratch(ffi, INITIAL_VALUE_SCRATCH),
      times,
      timesPtr: ffi.getRawPointer(times),
    };
  } catch {
    libc = undefined;
  }
  return libc;
}

/** True if the `node:ffi` bindings are usable in this process (loads them on first call). */
export function ffiAvailable(): boolean {
  return load() !== undefined;
}

/**
 * Test hook: shrink (or reset) the reusable xattr value buffer so tests can exercise the ERANGE/grow path.
 * Not for production use.
 */
export function setXattrScratchSizeForTest(bytes: number): void {
  const c = load();
  if (c === undefined) return;
  const buf = Buffer.allocUnsafeSlow(Math.max(1, bytes));
  c.value.buf = buf;
  c.value.ptr = c.ffi.getRawPointer(buf);
  c.value.size = BigInt(buf.length);
}

function readErrno(c: Libc): number {
  return c.ffi.getInt32(c.errnoPtr);
}

/** Copy `p` NUL-terminated into scratch `s`; returns the scratch's pointer. */
function encodeInto(c: Libc, s: Scratch, p: PathLike, what: string, syscall: string, forPath: PathLike): bigint {
  if (typeof p === 'string') {
    if (p.includes('\0')) throw new LibcError(syscall, forPath, 'EINVAL', `${what} contains a NUL byte`);
    // Worst case 3 bytes per UTF-16 unit; only measure exactly when that bound does not fit.
    if (p.length * 3 + 1 > s.buf.length) {
      const need = Buffer.byteLength(p, 'utf8') + 1;
      if (need > s.buf.length) growScratch(c.ffi, s, need);
    }
    const n = s.buf.write(p, 0, 'utf8');
    s.buf[n] = 0;
  } else {
    if (p.indexOf(0) !== -1) throw new LibcError(syscall, forPath, 'EINVAL', `${what} contains a NUL byte`);
    if (p.length + 1 > s.buf.length) growScratch(c.ffi, s, p.length + 1);
    p.copy(s.buf, 0);
    s.buf[p.length] = 0;
  }
  return s.ptr;
}

function pathPtr(c: Libc, p: PathLike, syscall: string): bigint {
  return encodeInto(c, c.path, p, 'path', syscall, p);
}

function namePtr(c: Libc, name: PathLike, syscall: string, path: PathLike): bigint {
  if (name.length === 0) throw new LibcError(syscall, path, 'EINVAL', 'empty xattr name');
  return encodeInto(c, c.name, name, 'xattr name', syscall, path);
}

function fail(syscall: string, path: PathLike, errno: number, extra?: string): LibcError {
  const name = errnoName(errno);
  return new LibcError(syscall, path, name, extra === undefined ? undefined : `${errnoMessage(name)} (${extra})`);
}

function wrapNodeError(syscall: string, path: PathLike, e: unknown): LibcError {
  return new LibcError(syscall, path, errnoCode(e) ?? 'EIO', undefined, { cause: e });
}

// ---------------------------------------------------------------------------------------------------------------
// timestamps

function splitNs(ns: bigint): [bigint, bigint] {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_S;
  }
  return [sec, nsec];
}

function nsToSeconds(ns: bigint): number {
  const [sec, nsec] = splitNs(ns);
  return Number(sec) + Number(nsec) / 1e9;
}

/**
 * Set access and modification times with nanosecond precision (utimensat). `atimeNs === undefined` leaves
 * the access time untouched (UTIME_OMIT). With `followSymlinks === false` a symlink's own times are set.
 *
 * Fallback without FFI: fs.lutimesSync / fs.utimesSync, which go through a double of seconds (about 0.2 µs
 * resolution for present-day times); an omitted atime is read first and written back.
 */
export function setTimesNs(path: PathLike, atimeNs: bigint | undefined, mtimeNs: bigint, followSymlinks: boolean): void {
  const c = load();
  if (c === undefined) {
    setTimesFallback(path, atimeNs, mtimeNs, followSymlinks);
    return;
  }
  const p = pathPtr(c, path, 'utimensat');
  const r = c.f.utimensat(AT_FDCWD, p, timesPtr(c, atimeNs, mtimeNs), followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW);
  if (r !== 0) throw fail('utimensat', path, readErrno(c));
}

/**
 * Sets the access and modification times of the file open as `fd` (futimens, nanoseconds, no path lookup). Returns
 * false when that is not possible here (no FFI, or the call failed): the caller then sets them by path.
 */
export function setTimesFd(fd: number, atimeNs: bigint, mtimeNs: bigint): boolean {
  const c = load();
  return c !== undefined && c.f.futimens(fd, timesPtr(c, atimeNs, mtimeNs)) === 0;
}

/** The two timespecs of utimensat/futimens in the scratch array (an undefined atime is UTIME_OMIT); returns its address. */
function timesPtr(c: Libc, atimeNs: bigint | undefined, mtimeNs: bigint): bigint {
  const t = c.times;
  if (atimeNs === undefined) {
    t[0] = 0n;
    t[1] = UTIME_OMIT;
  } else {
    [t[0], t[1]] = splitNs(atimeNs);
  }
  [t[2], t[3]] = splitNs(mtimeNs);
  return c.timesPtr;
}

function setTimesFallback(path: PathLike, atimeNs: bigint | undefined, mtimeNs: bigint, followSymlinks: boolean): void {
  const syscall = followSymlinks ? 'utimes' : 'lutimes';
  try {
    let atime: number;
    if (atimeNs === undefined) {
      const st = followSymlinks ? fs.statSync(path, { bigint: true }) : fs.lstatSync(path, { bigint: true });
      atime = nsToSeconds(st.atimeNs);
    } else {
      atime = nsToSeconds(atimeNs);
    }
    const mtime = nsToSeconds(mtimeNs);
    if (followSymlinks) fs.utimesSync(path, atime, mtime);
    else fs.lutimesSync(path, atime, mtime);
  } catch (e) {
    throw wrapNodeError(syscall, path, e);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// extended attributes (never following symlinks)

const MAX_GROW_RETRIES = 8;

/** Where attributes are read: an open descriptor (no path lookup) or the path itself (never following a symlink). */
interface XattrTarget {
  readonly fd: number | undefined;
  readonly path: PathLike;
}

function listOf(c: Libc, t: XattrTarget, buf: bigint, size: bigint): bigint {
  return t.fd === undefined ? c.f.llistxattr(pathPtr(c, t.path, 'llistxattr'), buf, size) : c.f.flistxattr(t.fd, buf, size);
}

function getOf(c: Libc, t: XattrTarget, name: bigint, buf: bigint, size: bigint): bigint {
  return t.fd === undefined ? c.f.lgetxattr(pathPtr(c, t.path, 'lgetxattr'), name, buf, size) : c.f.fgetxattr(t.fd, name, buf, size);
}

function listNames(c: Libc, t: XattrTarget): Buffer[] {
  const syscall = t.fd === undefined ? 'llistxattr' : 'flistxattr';
  const v = c.value;
  for (let attempt = 0; ; attempt++) {
    const r = listOf(c, t, v.ptr, v.size);
    if (r >= 0n) {
      const n = Number(r);
      if (n === 0) return [];
      const buf = v.buf;
      const names: Buffer[] = [];
      let start = 0;
      while (start < n) {
        let end = buf.indexOf(0, start);
        if (end === -1 || end > n) end = n;
        if (end > start) names.push(Buffer.from(buf.subarray(start, end)));
        start = end + 1;
      }
      return names;
    }
    const errno = readErrno(c);
    if (errno === ENOTSUP) return [];
    if (errno !== ERANGE || attempt >= MAX_GROW_RETRIES) throw fail(syscall, t.path, errno);
    // The list grew (or the scratch is too small): ask for the size, grow, retry.
    const need = listOf(c, t, 0n, 0n);
    if (need < 0n) {
      const e2 = readErrno(c);
      if (e2 === ENOTSUP) return [];
      throw fail(syscall, t.path, e2);
    }
    growScratch(c.ffi, v, Number(need));
  }
}

function getValue(c: Libc, t: XattrTarget, name: PathLike): Buffer | undefined {
  const syscall = t.fd === undefined ? 'lgetxattr' : 'fgetxattr';
  const np = namePtr(c, name, syscall, t.path);
  const v = c.value;
  for (let attempt = 0; ; attempt++) {
    const r = getOf(c, t, np, v.ptr, v.size);
    if (r >= 0n) return Buffer.from(v.buf.subarray(0, Number(r)));
    const errno = readErrno(c);
    if (errno === ENODATA) return undefined;
    if (errno !== ERANGE || attempt >= MAX_GROW_RETRIES) throw fail(syscall, t.path, errno, `xattr ${displayPath(name)}`);
    const need = getOf(c, t, np, 0n, 0n);
    if (need < 0n) {
      const e2 = readErrno(c);
      if (e2 === ENODATA) return undefined;
      throw fail(syscall, t.path, e2, `xattr ${displayPath(name)}`);
    }
    growScratch(c.ffi, v, Number(need));
  }
}

/**
 * Names of the extended attributes of `path` itself (llistxattr), as raw bytes, in kernel order.
 * Returns [] if the filesystem does not support xattrs (ENOTSUP) or without FFI.
 */
export function listXattrNames(path: PathLike): Buffer[] {
  const c = load();
  return c === undefined ? [] : listNames(c, { fd: undefined, path });
}

/**
 * Value of extended attribute `name` on `path` itself (lgetxattr); `undefined` if it does not exist
 * (ENODATA), or always without FFI. Other failures (including ENOTSUP) throw.
 */
export function getXattr(path: PathLike, name: PathLike): Buffer | undefined {
  const c = load();
  return c === undefined ? undefined : getValue(c, { fd: undefined, path }, name);
}

/**
 * Create or replace extended attribute `name` on `path` itself (lsetxattr). Without FFI this throws a
 * LibcError with errno 'ENOTSUP'.
 */
export function setXattr(path: PathLike, name: PathLike, value: Uint8Array): void {
  const c = load();
  if (c === undefined) {
    throw new LibcError(
      'lsetxattr',
      path,
      'ENOTSUP',
      `cannot set extended attribute ${displayPath(name)}: node:ffi is unavailable in this Node.js process (was it started with --no-experimental-ffi, or under the permission model without --allow-ffi?)`,
    );
  }
  const p = pathPtr(c, path, 'lsetxattr');
  const np = namePtr(c, name, 'lsetxattr', path);
  const r = c.f.lsetxattr(p, np, value.length === 0 ? 0n : value, BigInt(value.length), 0);
  if (r !== 0) throw fail('lsetxattr', path, readErrno(c), `xattr ${displayPath(name)}`);
}

/**
 * All extended attributes of `path` itself whose name passes `filter`, sorted by name bytes.
 * Attributes removed between listing and reading are skipped. [] without FFI or xattr support.
 */
export function readXattrs(path: PathLike, filter?: (name: Buffer) => boolean): Array<{ name: Buffer; value: Buffer }> {
  const c = load();
  return c === undefined ? [] : readAll(c, { fd: undefined, path }, filter);
}

/** readXattrs for the file open as `fd` (flistxattr/fgetxattr: no path lookup); `path` is for messages. */
export function readXattrsFd(fd: number, path: PathLike): Array<{ name: Buffer; value: Buffer }> {
  const c = load();
  return c === undefined ? [] : readAll(c, { fd, path });
}

function readAll(c: Libc, t: XattrTarget, filter?: (name: Buffer) => boolean): Array<{ name: Buffer; value: Buffer }> {
  const names = listNames(c, t);
  if (names.length === 0) return [];
  const out: Array<{ name: Buffer; value: Buffer }> = [];
  for (const name of names) {
    if (filter !== undefined && !filter(name)) continue;
    const value = getValue(c, t, name);
    if (value !== undefined) out.push({ name, value });
  }
  if (out.length > 1) out.sort((a, b) => Buffer.compare(a.name, b.name));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// device numbers (glibc encoding)

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

function checkU32(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidInputError(`${what} out of range: ${n}`);
}

/** glibc `makedev`: 32-bit major and minor numbers into a 64-bit dev_t. */
export function makedev(devMajor: number, devMinor: number): bigint {
  checkU32('device major', devMajor);
  checkU32('device minor', devMinor);
  const ma = BigInt(devMajor);
  const mi = BigInt(devMinor);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

/** glibc `major`. */
export function major(dev: bigint | number): number {
  const d = BigInt.asUintN(64, BigInt(dev));
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n));
}

/** glibc `minor`. */
export function minor(dev: bigint | number): number {
  const d = BigInt.asUintN(64, BigInt(dev));
  return Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n));
}

// ---------------------------------------------------------------------------------------------------------------
// special files

/**
 * Create a filesystem node (mknod). `mode` holds the file type bits (S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG,
 * S_IFSOCK) and permission bits (the process umask applies). `rdev` is the device number for S_IFCHR/S_IFBLK.
 *
 * Fallback without FFI: the `mknod` tool (`mkfifo` semantics for FIFOs; regular files via an exclusive
 * create); sockets are not supported there. In the fallback the permission bits are applied exactly
 * (`-m`), without the umask.
 */
export function mknod(path: PathLike, mode: number, rdev: bigint | number): void {
  checkU32('mode', mode);
  const c = load();
  if (c === undefined) {
    mknodFallback(path, mode, rdev);
    return;
  }
  const p = pathPtr(c, path, 'mknod');
  const r = c.f.mknod(p, mode, BigInt.asUintN(64, BigInt(rdev)));
  if (r !== 0) throw fail('mknod', path, readErrno(c));
}

/**
 * Create a FIFO (mkfifo). The process umask applies to `mode`.
 * Fallback without FFI: the `mkfifo` tool, with `mode` applied exactly (`-m`).
 */
export function mkfifo(path: PathLike, mode: number): void {
  checkU32('mode', mode);
  const c = load();
  if (c === undefined) {
    runCreateTool('mkfifo', path, ['-m', (mode & 0o7777).toString(8)], []);
    return;
  }
  const p = pathPtr(c, path, 'mkfifo');
  const r = c.f.mkfifo(p, mode & 0o7777);
  if (r !== 0) throw fail('mkfifo', path, readErrno(c));
}

function mknodFallback(path: PathLike, mode: number, rdev: bigint | number): void {
  const perm = (mode & 0o7777).toString(8);
  switch (mode & S_IFMT) {
    case S_IFIFO:
      runCreateTool('mknod', path, ['-m', perm], ['p']);
      return;
    case S_IFCHR:
    case S_IFBLK: {
      const type = (mode & S_IFMT) === S_IFCHR ? 'c' : 'b';
      runCreateTool('mknod', path, ['-m', perm], [type, String(major(rdev)), String(minor(rdev))]);
      return;
    }
    case S_IFREG:
    case 0: // mknod(2) treats a zero type as a regular file
      try {
        fs.closeSync(fs.openSync(path, 'wx', mode & 0o7777));
      } catch (e) {
        throw wrapNodeError('mknod', path, e);
      }
      return;
    case S_IFSOCK:
      throw new LibcError('mknod', path, 'ENOTSUP', 'creating sockets needs node:ffi, which is unavailable in this Node.js process');
    default:
      throw new LibcError('mknod', path, 'EINVAL');
  }
}

/** Does `p` survive a UTF-8 decode/encode round trip, so it can be passed to a child process as a string? */
function asArgString(p: PathLike): string | undefined {
  if (typeof p === 'string') return p;
  const s = p.toString('utf8');
  return Buffer.from(s, 'utf8').equals(p) ? s : undefined;
}

/** Messages coreutils prints (glibc strerror) mapped back to errno names, to give fallback errors an errno. */
function errnoFromToolOutput(stderr: string): string {
  for (const [name, msg] of Object.entries(ERRNO_MESSAGES)) if (stderr.includes(msg)) return name === 'EOPNOTSUPP' ? 'ENOTSUP' : name;
  return 'EIO';
}

/**
 * Run `tool [pre...] PATH [post...]`. Child processes only take string arguments, so a byte path that is not
 * valid UTF-8 is created under a temporary ASCII name in the same directory (reached by the child through an
 * inherited directory descriptor, /proc/self/fd/3) and then hard-linked to its real name, which keeps the
 * "fails with EEXIST" semantics, and the temporary name is removed.
 */
function runCreateTool(tool: string, path: PathLike, pre: string[], post: string[]): void {
  const run = (target: string, dirFd?: number): void => {
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
    if (dirFd !== undefined) stdio.push(dirFd);
    const res = spawnSync(tool, [...pre, '--', target, ...post], { stdio, encoding: 'utf8' });
    if (res.error !== undefined) throw new LibcError(tool, path, 'ENOTSUP', `cannot run ${tool}: ${res.error.message}`, { cause: res.error });
    if (res.status !== 0) {
      const msg = (res.stderr ?? '').trim();
      throw new LibcError(tool, path, errnoFromToolOutput(msg), msg === '' ? `${tool} exited with status ${String(res.status)}` : msg);
    }
  };
  const asString = asArgString(path);
  if (asString !== undefined) {
    run(asString);
    return;
  }
  const bytes = path as Buffer;
  const slash = bytes.lastIndexOf(0x2f);
  const dir = slash === -1 ? Buffer.from('.') : slash === 0 ? Buffer.from('/') : bytes.subarray(0, slash);
  const tmpName = `.pybackup-mk-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmpPath = Buffer.concat([dir, Buffer.from(`/${tmpName}`)]);
  let dirFd: number;
  try {
    dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    throw wrapNodeError(tool, path, e);
  }
  try {
    run(`/proc/self/fd/3/${tmpName}`, dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  try {
    fs.linkSync(tmpPath, bytes);
  } catch (e) {
    throw wrapNodeError(tool, path, e);
  } finally {
    try {
      fs.unlinkSync(tmpPath);
    } catch {
      /* best effort */
    }
  }
}

/** File type bits for `mknod` modes (Linux values). */
export const FILE_TYPE_BITS = { S_IFMT, S_IFSOCK, S_IFREG, S_IFBLK, S_IFCHR, S_IFIFO } as const;
