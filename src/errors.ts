/**
 * One error hierarchy for all of PyBackup. Every error carries a stable literal `code`; only the CLI entry
 * (src/cli/main.ts) maps codes to exit codes and messages. Expected absence returns `undefined` instead of throwing.
 */
export type ErrorCode =
  | 'INTERNAL'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'PERMANENT'
  | 'TRANSIENT'
  | 'REPO_NOT_FOUND'
  | 'REPO_EXISTS'
  | 'REPO_FORMAT'
  | 'WRONG_PASSWORD'
  | 'NO_PASSWORD'
  | 'LOCK_FAILED'
  | 'INTEGRITY'
  | 'SNAPSHOT_NOT_FOUND'
  | 'AMBIGUOUS_ID'
  | 'INVALID_INPUT'
  | 'UNSAFE_PATH'
  | 'ABORTED'
  | 'APPEND_ONLY'
  | 'HOOK_FAILED'
  | 'IO';

export class PyBackupError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bug: an invariant that should never fail did. */
export class InternalError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', message, options);
  }
}

/** The user asked for something malformed (bad flag value, bad pattern, bad snapshot id syntax). */
export class UsageError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

/** Stored data failed authentication or structural validation. */
export class IntegrityError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTEGRITY', message, options);
  }
}

/** Input data (file, config, snapshot content) is invalid. */
export class InvalidInputError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortedError extends PyBackupError {
  constructor(message = 'interrupted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('interrupted', { cause: signal.reason });
}

export function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

export function errnoCode(e: unknown): string | undefined {
  return isErrnoException(e) ? e.code : undefined;
}
