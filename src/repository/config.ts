import { InvalidInputError, PyBackupError } from '../errors.ts';

/** Sealed JSON at `config`. `version` gates the format: a client refuses versions it does not know. */
export const REPO_VERSION = 1;

export interface RepoConfig {
  readonly version: number;
  /** 64 hex chars; names the local catalog */
  readonly id: string;
  readonly chunker: { readonly min: number; readonly avg: number; readonly max: number };
  /** zstd level, 0 = off */
  readonly compression: number;
  /** target pack size in bytes */
  readonly packSize: number;
  /**
   * Append-only mode: clients add data but never delete or rewrite repository files (locks excepted). Absent in
   * older configs = false.
   */
  readonly appendOnly: boolean;
}

export class RepoFormatError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REPO_FORMAT', message, options);
  }
}

export function parseConfig(text: string): RepoConfig {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidInputError('repository config is not valid JSON', { cause: e });
  }
  if (typeof o !== 'object' || o === null) throw new InvalidInputError('repository config is not an object');
  if (typeof o.version !== 'number') throw new InvalidInputError('repository config has no version');
  if (o.version > REPO_VERSION) {
    throw new RepoFormatError(`repository format version ${o.version} is newer than this PyBackup supports (${REPO_VERSION}); upgrade PyBackup`);
  }
  if (o.version !== REPO_VERSION) throw new RepoFormatError(`unsupported repository format version ${o.version}`);
  const c = o.chunker as Record<string, unknown> | undefined;
  const num = (v: unknown, what: string, lo: number, hi: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new InvalidInputError(`repository config: bad ${what}`);
    return v;
  };
  if (typeof o.id !== 'string' || !/^[0-9a-f]{64}$/.test(o.id)) throw new InvalidInputError('repository config: bad id');
  return {
    version: o.version,
    id: o.id,
    chunker: {
      min: num(c?.min, 'chunker.min', 64, 64 << 20),
      avg: num(c?.avg, 'chunker.avg', 128, 64 << 20),
      max: num(c?.max, 'chunker.max', 256, 64 << 20),
    },
    compression: num(o.compression, 'compression', 0, 19),
    packSize: num(o.packSize, 'packSize', 1 << 20, 1 << 30),
    appendOnly: bool(o.appendOnly, 'appendOnly'),
  };
}

function bool(v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InvalidInputError(`repository config: bad ${what}`);
  return v;
}
