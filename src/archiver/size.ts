/**
 * Size arguments (`--exclude-larger-than`, pack sizes, ...): "100", "10k", "1.5M", "2G", "1T", case-insensitive,
 * with an optional "B" / "iB" after the unit ("10KiB", "10kb") or a bare "B" ("100b"). Units are binary, as in
 * restic: 1k = 1024. Fractions need a unit and are rounded down to whole bytes.
 */
import { UsageError } from '../errors.ts';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const SIZE_RE = /^(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?$/i;

/** Parses a size to a byte count; throws UsageError on anything else. */
export function parseSize(s: string): number {
  const t = s.trim();
  if (t === '') throw new UsageError('invalid size "": expected a number with an optional unit k, M, G or T');
  const m = SIZE_RE.exec(t);
  if (!m) throw new UsageError(`invalid size ${JSON.stringify(s)}: expected a number with an optional unit k, M, G or T (e.g. 500k, 1.5G)`);
  const num = Number(m[1]);
  const unit = UNITS[(m[2] ?? '').toLowerCase()] ?? 1;
  if (unit === 1 && !Number.isInteger(num)) throw new UsageError(`invalid size ${JSON.stringify(s)}: a byte count must be a whole number`);
  const bytes = Math.floor(num * unit);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid size ${JSON.stringify(s)}: too large`);
  return bytes;
}
