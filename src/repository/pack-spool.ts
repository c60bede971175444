import { type Hash, createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as C, mkdirSync, openSync, readdirSync, statSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Sealer } from '../crypto/aead.ts';
import { errnoCode } from '../errors.ts';
import { type BlobType, HEADER_AAD, type PackBlob, encodePackHeader } from './pack-format.ts';

/** A finished pack waiting in a spool file; storing it moves (or copies) the file into the repository. */
export interface SpooledPack {
  readonly id: string;
  readonly path: string;
  readonly size: number;
  readonly blobs: PackBlob[];
}

const SPOOL_PREFIX = '.spool-';
const WRITE_BATCH = 1 << 20;
/** writev takes at most IOV_MAX (1024 on Linux) pieces. */
const MAX_IOV = 1000;

/**
 * Spool file names carry host and pid, so a later run can tell the leftovers of a dead process, and a token of
 * the writer, so it can remove its own after an abort: `.spool-<host>-<pid>-<token>-<random>`.
 */
export function spoolPrefix(token = randomBytes(4).toString('hex'), pid = process.pid): string {
  return `${hostPrefix()}${pid}-${token}-`;
}

function hostPrefix(): string {
  return `${SPOOL_PREFIX}${hostname().replaceAll(/[^A-Za-z0-9.]/g, '_')}-`;
}

/**
 * Builds packs straight into a spool file: each sealed blob is written out (writev of the cipher's pieces) and
 * hashed as it is added, so a pack never sits in memory. Synchronous: meant for worker threads. One per writer.
 * The format is exactly PackBuilder's (docs/design.md "Packs").
 */
export class PackSpooler {
  readonly #sealer: Sealer;
  readonly #dir: string;
  readonly #prefix: string;
  #fd = -1;
  #path = '';
  #hash: Hash | undefined;
  #blobs: PackBlob[] = [];
  #size = 0;

  constructor(sealer: Sealer, dir: string, prefix = spoolPrefix()) {
    this.#sealer = sealer;
    this.#dir = dir;
    this.#prefix = prefix;
  }

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#blobs.length;
  }

  #open(): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    this.#path = join(this.#dir, this.#prefix + randomBytes(8).toString('hex'));
    this.#fd = openSync(this.#path, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
    this.#hash = createHash('sha256');
  }

  /** Pieces waiting to be written: small blobs are written together (one writev per WRITE_BATCH bytes). */
  #queued: Buffer[] = [];
  #queuedBytes = 0;

  #write(parts: readonly Buffer[]): number {
    let total = 0;
    for (const p of parts) {
      total += p.length;
      this.#hash?.update(p);
      this.#queued.push(p);
    }
    this.#queuedBytes += total;
    if (this.#queuedBytes >= WRITE_BATCH || this.#queued.length >= MAX_IOV) this.#flush();
    return total;
  }

  #flush(): void {
    for (let i = 0; i < this.#queued.length; i += MAX_IOV) {
      const group = this.#queued.slice(i, i + MAX_IOV);
      const want = group.reduce((a, p) => a + p.length, 0);
      const n = writevSync(this.#fd, group);
      if (n < want) writeRest(this.#fd, group, n);
    }
    this.#queued = [];
    this.#queuedBytes = 0;
  }

  /** `payload` is framed plaintext (flag|body) or its parts, as for PackBuilder.addPayload. */
  addPayload(id: Buffer, type: BlobType, payload: Uint8Array | readonly Uint8Array[], rawLength: number): PackBlob {
    if (this.#fd < 0) this.#open();
    const length = this.#write(this.#sealer.sealParts(payload));
    const entry: PackBlob = { id, type, offset: this.#size, length, rawLength };
    this.#blobs.push(entry);
    this.#size += length;
    return entry;
  }

  /** Appends the sealed header and its length, closes the file and returns the pack; the next add starts a new one. */
  finish(): SpooledPack {
    if (this.#fd < 0) throw new Error('PackSpooler.finish: no blobs added');
    const parts = this.#sealer.sealParts(encodePackHeader(this.#blobs), HEADER_AAD);
    const hlen = parts.reduce((a, p) => a + p.length, 0);
    const tail = Buffer.allocUnsafe(4);
    tail.writeUInt32LE(hlen, 0);
    parts.push(tail);
    const size = this.#size + this.#write(parts);
    this.#flush();
    const id = (this.#hash as Hash).digest('hex');
    closeSync(this.#fd);
    const out: SpooledPack = { id, path: this.#path, size, blobs: this.#blobs };
    this.#fd = -1;
    this.#hash = undefined;
    this.#blobs = [];
    this.#size = 0;
    return out;
  }

  /** Drops the pack being built (its spool file too). */
  discard(): void {
    if (this.#fd < 0) return;
    this.#queued = [];
    this.#queuedBytes = 0;
    closeSync(this.#fd);
    this.#fd = -1;
    removeQuietly(this.#path);
    this.#blobs = [];
    this.#size = 0;
  }
}

function writeRest(fd: number, parts: readonly Buffer[], written: number): void {
  let skip = written;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    let off = skip;
    skip = 0;
    while (off < p.length) off += writeSync(fd, p, off, p.length - off);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** Spool files of another host are left for a week: that host may still be writing them. */
const FOREIGN_SPOOL_AGE_MS = 7 * 24 * 3600 * 1000;

/** Removes the spool files whose names start with `prefix` (a writer's own, after an abort). */
export function removeSpool(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) removeQuietly(join(dir, name));
}

/** Removes spool files this host's dead processes left behind (a killed backup), and very old ones from anywhere. */
export function cleanSpool(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const host = hostPrefix();
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(SPOOL_PREFIX)) continue;
    const path = join(dir, name);
    let stale: boolean;
    if (name.startsWith(host)) {
      const pid = Number(name.slice(host.length).split('-')[0]);
      stale = !Number.isInteger(pid) || (pid !== process.pid && !alive(pid));
    } else {
      try {
        stale = Date.now() - statSync(path).mtimeMs > FOREIGN_SPOOL_AGE_MS;
      } catch {
        stale = false;
      }
    }
    if (stale) {
      removeQuietly(path);
      removed++;
    }
  }
  return removed;
}
