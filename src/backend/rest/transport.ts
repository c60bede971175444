import type { FileSource } from '../backend.ts';
import type { Pacer } from '../rate-limit.ts';

/** One HTTP exchange of the restic REST protocol; the body is sent with a fixed Content-Length. */
export interface RestRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** Absolute path with query, already percent-encoded. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | FileSource;
  readonly signal?: AbortSignal;
  readonly paceUpload?: Pacer;
  readonly paceDownload?: Pacer;
}

export interface RestResponse {
  readonly status: number;
  /** Lowercase names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body (for an error status, its first bytes only). */
  readonly body: Buffer;
}

/**
 * Moves REST requests: HTTP/1.1 with a keep-alive pool (`rest:`), or HTTP/2 over a child's pipes (`rclone:`).
 * Network failures reject with TransientError, an abort with AbortedError, anything that cannot pass with
 * PermanentError; HTTP error statuses are answers, not failures.
 */
export interface Transport {
  request(r: RestRequest): Promise<RestResponse>;
  close(): Promise<void>;
}

/** How long a request may go without a byte moving either way before it counts as stalled (restic: 5 min). */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
