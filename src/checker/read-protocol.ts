/** Messages between the checker (main thread) and its read-data workers. Pack bytes travel in transfer lists. */
export interface ReadWorkerInit {
  readonly encKey: Uint8Array;
  readonly idKey: Uint8Array;
}

/** One whole pack and what the index says it holds (parallel arrays, cheap to clone). */
export interface PackJob {
  readonly t: 'pack';
  readonly job: number;
  readonly id: string;
  /** the pack's bytes, or (a local repository) `file` for the worker to read itself: no buffer crosses threads */
  readonly data?: Uint8Array;
  readonly file?: { readonly path: string; readonly size: number };
  /** concatenated 32-byte blob ids */
  readonly ids: Uint8Array;
  /** 0 data, 1 tree */
  readonly types: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly rawLengths: Uint32Array;
  /** send back the tree blobs that verified, as encoded TreeRefs (the tree walk then needs no second read) */
  readonly wantTrees: boolean;
}

export type ToReadWorker = PackJob | { readonly t: 'stop' };

export interface PackVerdict {
  readonly t: 'done';
  readonly job: number;
  /** the worker could not read `file` (nothing was checked): the main thread loads the pack through the backend */
  readonly unread?: string;
  /** SHA-256 of the bytes equals the pack's name */
  readonly hashOk: boolean;
  /** the header could not be read (decrypt or parse), with the reason */
  readonly headerError?: string;
  /** index entries (positions) the header does not list with the same type, offset and lengths */
  readonly notInHeader: readonly number[];
  /** header entries no index entry of this pack matches */
  readonly extraInHeader: number;
  /** index entries (positions) whose blob failed to decrypt, decompress or match its id */
  readonly badBlobs: ReadonlyArray<{ readonly i: number; readonly message: string }>;
  /** with `wantTrees`: encoded TreeRefs of the valid trees, concatenated, with their index entry positions and lengths */
  readonly trees?: { readonly data: Uint8Array; readonly entries: Uint32Array; readonly lengths: Uint32Array };
}
