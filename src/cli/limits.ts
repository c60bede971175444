import { InvalidArgumentError } from 'commander';
import type { RateLimits } from '../backend/rate-limit.ts';

/** Parses a --limit-upload / --limit-download value: KiB/s, a positive number (restic's unit). */
export function parseKiBps(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(n > 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError('expected a positive number of KiB/s, e.g. 1024 for 1 MiB/s');
  }
  return n;
}

/** The global limit flags as byte rates for the backend wrapper. */
export function rateLimitsOf(g: { limitUpload?: number; limitDownload?: number }): RateLimits {
  return {
    ...(g.limitUpload !== undefined ? { uploadBytesPerSec: g.limitUpload * 1024 } : {}),
    ...(g.limitDownload !== undefined ? { downloadBytesPerSec: g.limitDownload * 1024 } : {}),
  };
}
