/** Messages between the restorer (main thread) and its write workers. */
export interface RestoreWorkerInit {
  readonly encKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly sparse: boolean;
}

export interface WriteTarget {
  /** raw path bytes as latin1 */
  readonly path: string;
  readonly offset: number;
  /** index of the file in the main thread's list */
  readonly file: number;
  /** creation mode (the restore runs with umask 0) */
  readonly mode: number;
  /** for a file written by this one blob: its access and modification times (ns), set through the descriptor */
  readonly times?: readonly [string, string];
}

export interface BlobWork {
  readonly id: string;
  /** offset of the blob's box within the sent range */
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  readonly targets: readonly WriteTarget[];
}

/**
 * A pack range to write out: its bytes (`data`), or where the worker reads them itself (`file`, a local repository's
 * pack: no buffer crosses threads and the worker's read buffer is reused).
 */
export type ToRestoreWorker =
  | { readonly t: 'range'; readonly job: number; readonly data?: Uint8Array; readonly file?: { readonly path: string; readonly offset: number; readonly length: number }; readonly blobs: readonly BlobWork[] }
  | { readonly t: 'stop' };

export interface RangeResult {
  readonly t: 'done';
  readonly job: number;
  readonly bytes: number;
  /** files (indexes) that failed, with the reason */
  readonly failed: ReadonlyArray<{ file: number; message: string }>;
  /** the worker could not read `file` (nothing was written): the main thread loads the range through the backend */
  readonly unread?: string;
  /** files (indexes) whose times the worker set */
  readonly timed?: readonly number[];
}
