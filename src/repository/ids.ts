import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';

export const ID_BYTES = 32;
const HEX64 = /^[0-9a-f]{64}$/;

export function isId(s: string): boolean {
  return HEX64.test(s);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses a user-supplied id or id prefix: lowercase hex, 1..64 chars. */
export function parseIdPrefix(s: string): string {
  const t = s.toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(t)) throw new UsageError(`invalid ID ${JSON.stringify(s)}: expected hex digits`);
  return t;
}
