import { createCipheriv, createHash } from 'node:crypto';

/** A small deterministic PRNG (xoshiro128**), seeded from a string. Not for cryptography. */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[];
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export function createRng(seed: string): Rng {
  const h = createHash('sha256').update(seed).digest();
  const s = new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)]);
  if (s.every((x) => x === 0)) s[0] = 1;
  const u32 = (): number => {
    const s0 = s[0] ?? 0;
    const s1 = s[1] ?? 0;
    const s2 = s[2] ?? 0;
    const s3 = s[3] ?? 0;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    const n1 = (s1 ^ n2) >>> 0;
    const n0 = (s0 ^ n3) >>> 0;
    s[0] = n0;
    s[1] = n1;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return result;
  };
  const float = (): number => u32() / 0x1_0000_0000;
  const int = (min: number, max: number): number => min + Math.floor(float() * (max - min + 1));
  return {
    u32,
    float,
    int,
    chance: (p) => float() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)] as T;
    },
    shuffled<T>(items: readonly T[]): T[] {
      const a = items.slice();
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(0, i);
        const tmp = a[i] as T;
        a[i] = a[j] as T;
        a[j] = tmp;
      }
      return a;
    },
  };
}

/**
 * Deterministic incompressible bytes: the AES-256-CTR keystream for a key derived from `seed`.
 * Call `next(n)` repeatedly to continue the same stream.
 */
export function createByteStream(seed: string): { next(n: number): Buffer } {
  const key = createHash('sha256').update(`bytes:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return { next: (n) => cipher.update(Buffer.alloc(n)) };
}

/** Mildly compressible text (roughly 2–3x with lz4/zstd): words from a seeded vocabulary mixed with hex and numbers. */
export function createTextGen(seed: string): { text(bytes: number): string } {
  const rng = createRng(`text:${seed}`);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocab: string[] = [];
  for (let i = 0; i < 4000; i++) {
    let w = '';
    const len = rng.int(3, 11);
    for (let j = 0; j < len; j++) w += letters[rng.int(0, 25)];
    vocab.push(w);
  }
  const hex = '0123456789abcdef';
  const token = (): string => {
    const r = rng.float();
    if (r < 0.62) return rng.pick(vocab);
    if (r < 0.82) {
      let t = '';
      const len = rng.int(6, 16);
      for (let j = 0; j < len; j++) t += hex[rng.int(0, 15)];
      return t;
    }
    return String(rng.u32() % 1_000_000);
  };
  return {
    text(bytes: number): string {
      const parts: string[] = [];
      let len = 0;
      while (len < bytes) {
        const words = rng.int(4, 14);
        const line: string[] = [];
        for (let i = 0; i < words; i++) line.push(token());
        const s = `${line.join(' ')}\n`;
        parts.push(s);
        len += s.length;
      }
      return parts.join('').slice(0, bytes);
    },
  };
}
