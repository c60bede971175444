import { STATUS_CODES } from 'node:http';
import { AbortedError, PyBackupError, errnoCode } from '../../errors.ts';
import { NotFoundError, PermanentError, TransientError } from '../backend.ts';
import { isTransient } from '../retry.ts';
import { parseErrorXml } from './xml.ts';

/**
 * S3 answers and network failures as PyBackup errors: 404 -> NotFoundError; 401/403 and other 4xx ->
 * PermanentError with the server's Code and Message; 5xx, 408, 429, SlowDown, RequestTimeout and connection
 * failures -> TransientError (the retry wrapper retries those). Messages never carry a credential: the server's
 * text is cut short, stripped of control characters, and any secret it echoes is masked.
 */

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

const TRANSIENT_S3_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'OperationAborted', 'RequestTimeoutException', 'Throttling', 'ThrottlingException']);

const HINTS: Record<string, string> = {
  SignatureDoesNotMatch: 'check the secret access key in AWS_SECRET_ACCESS_KEY or the profile\'s aws_secret_access_key',
  InvalidAccessKeyId: 'check the access key id in AWS_ACCESS_KEY_ID or the profile\'s aws_access_key_id',
  InvalidToken: 'the session token in AWS_SESSION_TOKEN or the profile is not valid',
  ExpiredToken: 'the session token in AWS_SESSION_TOKEN or the profile has expired',
  RequestTimeTooSkewed: 'this computer\'s clock is off: fix the system time',
  AccessDenied: 'these credentials may not do this on the bucket',
};

/** The server's error code and message of an answer (from its XML body, else from headers or the status). */
export function describeAnswer(res: HttpAnswer, secrets: readonly string[]): { code: string; text: string } {
  const looksXml = res.body.length > 0 && res.body.subarray(0, 64).toString('utf8').trimStart().startsWith('<');
  const info = looksXml ? parseErrorXml(res.body.toString('utf8')) : undefined;
  const header = (n: string): string | undefined => {
    const v = res.headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const code = clean(info?.code ?? header('x-amz-error-code') ?? '', secrets) || (STATUS_CODES[res.status] ?? 'error').replace(/\s+/g, '');
  const message = clean(info?.message ?? header('x-amz-error-message') ?? '', secrets);
  const hint = HINTS[code];
  let text = `${res.status} ${code}${message ? `: ${message}` : ''}`;
  if (hint) text += ` (${hint})`;
  if (code === 'PermanentRedirect' && info?.endpoint) text += ` (address the bucket through ${clean(info.endpoint, secrets)})`;
  if (code === 'AuthorizationHeaderMalformed' && info?.region) text += ` (the bucket is in region ${clean(info.region, secrets)}: set AWS_REGION)`;
  return { code, text };
}

export function answerError(res: HttpAnswer, what: string, secrets: readonly string[], bucket: string): PyBackupError {
  const { code, text } = describeAnswer(res, secrets);
  const msg = `${what}: ${text}`;
  if (code === 'NoSuchBucket') return new PermanentError(`${what}: the bucket "${bucket}" does not exist (${res.status} NoSuchBucket)`);
  if (res.status === 404) return new NotFoundError(msg);
  if (res.status === 401 || res.status === 403) return new PermanentError(msg);
  if (res.status >= 500 || res.status === 408 || res.status === 429 || TRANSIENT_S3_CODES.has(code)) return new TransientError(msg);
  return new PermanentError(msg);
}

/** A failure below HTTP (DNS, TCP, TLS, a dropped connection, an abort) as a PyBackup error. */
export function networkError(e: unknown, what: string, endpoint: string, signal: AbortSignal | undefined): PyBackupError {
  if (signal?.aborted) return e instanceof AbortedError ? e : new AbortedError('interrupted', { cause: signal.reason });
  if (e instanceof PyBackupError) return e;
  const code = errnoCode(e) ?? '';
  const detail = `${code ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  if (code === 'ENOTFOUND') return new PermanentError(`${what}: cannot resolve the host of ${endpoint} (${detail})`, { cause: e });
  if (/CERT|TLS|SSL/.test(code)) return new PermanentError(`${what}: TLS failure talking to ${endpoint} (${detail})`, { cause: e });
  if (isTransient(e) || code.startsWith('HPE_') || code === '' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new TransientError(`${what}: connection to ${endpoint} failed (${detail})`, { cause: e });
  }
  return new PermanentError(`${what}: ${detail}`, { cause: e });
}

/** Server text made safe to show: one line, printable, at most 300 characters, no secret in it. */
export function clean(s: string, secrets: readonly string[]): string {
  // oxlint-disable-next-line no-control-regex -- control characters are what is being matched
  let out = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}
