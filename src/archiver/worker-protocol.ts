import type { Xattr } from '../model/node.ts';

/** Messages between the archiver (main thread) and its file workers. Buffers travel in transfer lists. */
export interface WorkerInit {
  readonly encKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly chunkerKey: Uint8Array;
  readonly chunker: { min: number; avg: number; max: number };
  readonly compression: number;
  readonly packSize: number;
  readonly catalogPath: string;
  /** the catalog held no blobs when the backup started: skip lookups (the worker's own session set still dedups) */
  readonly catalogEmpty: boolean;
  /** where packs are built (see PackSpooler), and the spool file name prefix of this process */
  readonly spoolDir: string;
  readonly spoolPrefix: string;
  /** read each file's extended attributes from its open descriptor */
  readonly xattrs: boolean;
}

export interface FileJob {
  /** raw path bytes as a latin1 string: lossless, and far cheaper to send than a Buffer (a view would copy its pool) */
  readonly path: string;
  readonly size: number;
  readonly mtimeNs: bigint;
}

export type ToWorker =
  | { readonly t: 'files'; readonly job: number; readonly files: readonly FileJob[] }
  /** a finished pack was stored */
  | { readonly t: 'ack' }
  /** the catalog now holds the blobs of these packs (the worker's pack numbers): its session set may forget them */
  | { readonly t: 'indexed'; readonly seqs: readonly number[] }
  | { readonly t: 'flush' }
  | { readonly t: 'stop' };

export interface FileResult {
  /** concatenated 32-byte blob ids, in a buffer of its own */
  readonly content: Uint8Array;
  readonly size: number;
  /** the file's size or mtime differed between the scan and the end of the read */
  readonly changed: boolean;
  readonly error?: string;
  readonly errorCode?: string;
  /** bytes of new (not deduplicated) data */
  readonly newBytes: number;
  readonly newBlobs: number;
  /** the file's extended attributes (when WorkerInit.xattrs and it has any) */
  readonly xattrs?: Xattr[];
}

/** A FileResult as sent: its content is `count` ids of the batch's `ids` buffer. */
export type WireResult = Omit<FileResult, 'content'> & { readonly count: number };

export interface PackMsg {
  readonly t: 'pack';
  readonly id: string;
  /** the worker's running number for its packs */
  readonly seq: number;
  /** the spool file holding the whole pack, and its size */
  readonly path: string;
  readonly size: number;
  /** per blob: type, stored length, plaintext length; offsets follow from the lengths */
  readonly types: readonly ('data' | 'tree')[];
  readonly lengths: readonly number[];
  readonly rawLengths: readonly number[];
  /** concatenated 32-byte blob ids */
  readonly ids: Uint8Array;
}

export type FromWorker =
  | PackMsg
  | { readonly t: 'progress'; readonly job: number; readonly bytes: number }
  /** `ids`: every file's content ids, concatenated in order (one transferred buffer per batch, not one per file) */
  | { readonly t: 'done'; readonly job: number; readonly results: readonly WireResult[]; readonly ids: Uint8Array }
  | { readonly t: 'flushed' }
  | { readonly t: 'fatal'; readonly message: string };
