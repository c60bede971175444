import { type CipherGCM, type Decipheriv, createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import { IntegrityError } from '../errors.ts';

/**
 * Sealed box format (docs/design.md "Encryption"):
 *   version(1) = 0x01 | session id(16) | nonce(12) | AES-256-GCM ciphertext | tag(16)
 * The key of a box is HKDF-SHA256(master encryption key, salt = session id, info = "pybackup aes-256-gcm v1").
 * Every writer (process or worker thread) draws a fresh random session id, so the 96-bit random nonces of one
 * key never come near the 2^32-messages bound, however many writers a repository has.
 */
export const SEAL_VERSION = 1;
export const SESSION_ID_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = 1 + SESSION_ID_BYTES + NONCE_BYTES + TAG_BYTES;
const INFO = Buffer.from('pybackup aes-256-gcm v1');
/** sealParts encrypts in pieces of this size (under glibc's 128 KiB mmap threshold). */
const SEAL_SLICE = 64 * 1024;

export function deriveSessionKey(masterEncKey: Uint8Array, sessionId: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', masterEncKey, sessionId, INFO, 32));
}

/** Encrypts with a session of its own; decrypts any session's boxes made from the same master key. */
export class Sealer {
  readonly #master: Buffer;
  readonly #sessionId: Buffer;
  readonly #sessionKey: Buffer;
  readonly #keys = new Map<string, Buffer>();

  constructor(masterEncKey: Uint8Array) {
    this.#master = Buffer.from(masterEncKey);
    this.#sessionId = randomBytes(SESSION_ID_BYTES);
    this.#sessionKey = deriveSessionKey(this.#master, this.#sessionId);
  }

  /** Returns a new buffer: header | ciphertext | tag. `aad` binds context (e.g. the file type) when given. */
  seal(plain: Uint8Array, aad?: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plain.length);
    this.sealInto(plain, out, 0, aad);
    return out;
  }

  /** Writes the sealed box of `plain` (one buffer, or parts sealed as their concatenation) into `out` at `offset`; returns the bytes written. */
  sealInto(plain: Uint8Array | readonly Uint8Array[], out: Buffer, offset: number, aad?: Uint8Array): number {
    const c = this.#cipherInto(out, offset, aad);
    let pos = offset + 1 + SESSION_ID_BYTES + NONCE_BYTES;
    if (plain instanceof Uint8Array) pos += c.update(plain).copy(out, pos);
    else for (const part of plain) pos += c.update(part).copy(out, pos);
    pos += c.final().copy(out, pos);
    pos += c.getAuthTag().copy(out, pos);
    return pos - offset;
  }

  /** Writes a box header (version, session id, fresh nonce) into `out` at `offset`; returns the cipher for that nonce. */
  #cipherInto(out: Buffer, offset: number, aad?: Uint8Array): CipherGCM {
    out[offset] = SEAL_VERSION;
    this.#sessionId.copy(out, offset + 1);
    const at = offset + 1 + SESSION_ID_BYTES;
    this.#nonceInto(out, at);
    const c = createCipheriv('aes-256-gcm', this.#sessionKey, out.subarray(at, at + NONCE_BYTES));
    if (aad) c.setAAD(aad);
    return c;
  }

  /**
   * The sealed box of `plain` as parts — header, ciphertext pieces, tag — for writers that stream it out (writev)
   * instead of assembling it in one buffer.
   */
  sealParts(plain: Uint8Array | readonly Uint8Array[], aad?: Uint8Array): Buffer[] {
    const head = Buffer.allocUnsafe(1 + SESSION_ID_BYTES + NONCE_BYTES);
    const c = this.#cipherInto(head, 0, aad);
    const out = [head];
    // Slices keep each ciphertext piece small: malloc serves it from its warm arena, where a chunk-sized buffer
    // would be a fresh mapping to fault in page by page (and GC pressure as large external memory).
    const parts = plain instanceof Uint8Array ? [plain] : plain;
    for (const part of parts) {
      for (let o = 0; o < part.length; o += SEAL_SLICE) out.push(c.update(part.subarray(o, o + SEAL_SLICE)));
    }
    const last = c.final();
    if (last.length > 0) out.push(last);
    out.push(c.getAuthTag());
    return out;
  }

  /** Random nonces come from a pool refilled 256 at a time: one CSPRNG call instead of one per box (tiny blobs). */
  readonly #nonces = Buffer.allocUnsafe(NONCE_BYTES * 256);
  #nonceAt = this.#nonces.length;
  #nonceInto(out: Buffer, at: number): void {
    if (this.#nonceAt === this.#nonces.length) {
      randomFillSync(this.#nonces);
      this.#nonceAt = 0;
    }
    this.#nonces.copy(out, at, this.#nonceAt, this.#nonceAt + NONCE_BYTES);
    this.#nonces.fill(0, this.#nonceAt, this.#nonceAt + NONCE_BYTES);
    this.#nonceAt += NONCE_BYTES;
  }

  /**
   * Like open, but the plaintext goes into `out` (grown when too small; `out.buf` may be replaced) and the result
   * is a view of it, valid until the caller reuses the buffer. Decrypts in SEAL_SLICE pieces, so no chunk-sized
   * buffer is allocated (and faulted in) per box. Nothing of the plaintext is returned unless the tag verifies.
   */
  openInto(box: Uint8Array, out: { buf: Buffer }, aad?: Uint8Array): Buffer {
    const d = this.#decipher(box, aad);
    const body = Buffer.from(box.buffer, box.byteOffset + 1 + SESSION_ID_BYTES + NONCE_BYTES, box.byteLength - SEAL_OVERHEAD);
    if (out.buf.length < body.length) out.buf = Buffer.allocUnsafeSlow(Math.max(body.length, out.buf.length * 2));
    let n = 0;
    try {
      for (let o = 0; o < body.length; o += SEAL_SLICE) n += d.update(body.subarray(o, o + SEAL_SLICE)).copy(out.buf, n);
      n += d.final().copy(out.buf, n);
    } catch (e) {
      throw new IntegrityError('ciphertext verification failed (data corrupted or wrong key)', { cause: e });
    }
    return out.buf.subarray(0, n);
  }

  #decipher(box: Uint8Array, aad?: Uint8Array): Decipheriv {
    if (box.length < SEAL_OVERHEAD) throw new IntegrityError(`encrypted data too short (${box.length} bytes)`);
    const b = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
    if (b[0] !== SEAL_VERSION) throw new IntegrityError(`unknown encryption version ${b[0]}`);
    const key = this.#keyFor(b.subarray(1, 1 + SESSION_ID_BYTES));
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(1 + SESSION_ID_BYTES, 1 + SESSION_ID_BYTES + NONCE_BYTES));
    if (aad) d.setAAD(aad);
    d.setAuthTag(b.subarray(b.length - TAG_BYTES));
    return d;
  }

  open(box: Uint8Array, aad?: Uint8Array): Buffer {
    const d = this.#decipher(box, aad);
    const body = Buffer.from(box.buffer, box.byteOffset + 1 + SESSION_ID_BYTES + NONCE_BYTES, box.byteLength - SEAL_OVERHEAD);
    try {
      const first = d.update(body);
      const last = d.final();
      return last.length === 0 ? first : Buffer.concat([first, last]);
    } catch (e) {
      throw new IntegrityError('ciphertext verification failed (data corrupted or wrong key)', { cause: e });
    }
  }

  #keyFor(sid: Buffer): Buffer {
    if (sid.equals(this.#sessionId)) return this.#sessionKey;
    const k = sid.toString('hex');
    let key = this.#keys.get(k);
    if (!key) {
      key = deriveSessionKey(this.#master, sid);
      if (this.#keys.size > 4096) this.#keys.clear();
      this.#keys.set(k, key);
    }
    return key;
  }
}
