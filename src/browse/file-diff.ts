import type { Node } from '../model/node.ts';
import type { ContentReader } from './content.ts';
import { type Hunk, splitLines, unifiedHunks } from './text-diff.ts';

export type FileDiff =
  | { readonly kind: 'identical'; readonly oldSize: number; readonly newSize: number }
  | { readonly kind: 'binary'; readonly oldSize: number; readonly newSize: number }
  | { readonly kind: 'too_large'; readonly oldSize: number; readonly newSize: number; readonly limit: number }
  | { readonly kind: 'text'; readonly oldSize: number; readonly newSize: number; readonly hunks: readonly Hunk[] };

export const TEXT_DIFF_LIMIT = 10 << 20;
const SNIFF = 8192;
const STRICT = new TextDecoder('utf-8', { fatal: true });

/** Binary: a NUL byte or invalid UTF-8 in the first 8 KiB (a sequence cut at the 8 KiB boundary is allowed). */
export function looksBinary(head: Uint8Array): boolean {
  const h = head.subarray(0, SNIFF);
  if (h.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(h, { stream: true });
    return false;
  } catch {
    return true;
  }
}

async function readAll(reader: ContentReader, content: readonly string[], signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of reader.stream(content, signal)) parts.push(b);
  return Buffer.concat(parts);
}

/**
 * Compares two regular files: identical content ids need no data; otherwise both are read (each at most `limit`
 * bytes, else `too_large`), a binary one gives `binary`, and text gives unified hunks with `context` lines.
 */
export async function diffFiles(reader: ContentReader, a: Node, b: Node, o: { limit?: number; context?: number; signal?: AbortSignal } = {}): Promise<FileDiff> {
  const ca = a.content ?? [];
  const cb = b.content ?? [];
  const oldSize = reader.layout(ca).size;
  const newSize = reader.layout(cb).size;
  if (ca.length === cb.length && ca.every((id, i) => id === cb[i])) return { kind: 'identical', oldSize, newSize };
  const limit = o.limit ?? TEXT_DIFF_LIMIT;
  if (oldSize > limit || newSize > limit) return { kind: 'too_large', oldSize, newSize, limit };
  const da = await readAll(reader, ca, o.signal);
  const db = await readAll(reader, cb, o.signal);
  if (looksBinary(da) || looksBinary(db)) return { kind: 'binary', oldSize, newSize };
  const text = (d: Buffer): string => {
    try {
      return STRICT.decode(d);
    } catch {
      return d.toString('utf8'); // invalid UTF-8 past the sniffed head: shown lossily
    }
  };
  return { kind: 'text', oldSize, newSize, hunks: unifiedHunks(splitLines(text(da)), splitLines(text(db)), o.context ?? 3) };
}
