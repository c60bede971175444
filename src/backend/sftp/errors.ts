import { NotFoundError, PermanentError, TransientError } from '../backend.ts';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, what OpenSSH speaks). */
export const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

/** Socket-level codes of a connection that failed or dropped: worth another try. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENETRESET', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END',
]);

export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Maps an error of an SFTP request to the backend's classes: no such file -> NotFoundError, permission denied and
 * other answers of the server -> PermanentError, a lost connection -> TransientError (the retry wrapper retries).
 * `connectionLost` tells whether the session died meanwhile: then every failure is the connection's.
 */
export function mapSftpError(e: unknown, what: string, connectionLost: boolean): Error {
  if (e instanceof NotFoundError || e instanceof PermanentError || e instanceof TransientError) return e;
  const msg = (e as Error)?.message ?? String(e);
  const status = statusOf(e);
  if (status === SFTP_STATUS.NO_SUCH_FILE) return new NotFoundError(`${what}: no such file or directory`, { cause: e });
  if (status === SFTP_STATUS.PERMISSION_DENIED) return new PermanentError(`${what}: permission denied by the SFTP server`, { cause: e });
  if (status === SFTP_STATUS.NO_CONNECTION || status === SFTP_STATUS.CONNECTION_LOST || connectionLost) {
    return new TransientError(`${what}: the SSH connection was lost (${msg})`, { cause: e });
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return new TransientError(`${what}: ${msg}`, { cause: e });
  if (/no response from server|not connected|channel .*(closed|not open)|no sftp session/i.test(msg)) {
    return new TransientError(`${what}: the SSH connection was lost (${msg})`, { cause: e });
  }
  if (status === SFTP_STATUS.OP_UNSUPPORTED) return new PermanentError(`${what}: the SFTP server does not support this operation`, { cause: e });
  if (status === SFTP_STATUS.FAILURE) return new PermanentError(`${what}: the SFTP server reported a failure (disk full, or the file exists?)`, { cause: e });
  return new PermanentError(`${what}: ${msg}`, { cause: e });
}

export function isNetworkError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}
