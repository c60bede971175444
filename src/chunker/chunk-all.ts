import type { Chunker } from './fastcdc.ts';

/**
 * Chunk lengths for a whole in-memory buffer, in order; they sum to data.length. Obeys the cut() contract trivially:
 * every call sees all remaining bytes, so it gets at least `max` bytes or reaches the end of the data.
 */
export function chunkAll(chunker: Chunker, data: Uint8Array): number[] {
  const lengths: number[] = [];
  let start = 0;
  while (start < data.length) {
    const n = chunker.cut(data, start, data.length);
    if (n <= 0) throw new Error(`chunker returned a non-positive length ${n}`);
    lengths.push(n);
    start += n;
  }
  return lengths;
}
