/** What `copySnapshots` reports; the CLI renders it as text or NDJSON. */
export type CopyMode = 'keep-boundaries' | 'rechunk';

export interface CopySummary {
  readonly mode: CopyMode;
  /** snapshots selected in the source */
  readonly selected: number;
  readonly copied: number;
  readonly skipped: number;
  /** source snapshot id -> new destination snapshot id */
  readonly snapshots: readonly { readonly source: string; readonly destination: string }[];
  readonly dataBlobs: number;
  readonly treeBlobs: number;
  /** plaintext bytes of the blobs stored in the destination, and their packed (compressed, encrypted) size */
  readonly dataAdded: number;
  readonly dataAddedPacked: number;
  /** plaintext bytes read from the source */
  readonly bytesRead: number;
}

export type CopyEvent =
  | { readonly type: 'start'; readonly mode: CopyMode; readonly selected: number }
  | { readonly type: 'skipped'; readonly source: string; readonly existing: string; readonly reason: 'original' | 'similar' }
  | { readonly type: 'snapshot-start'; readonly source: string; readonly index: number; readonly total: number; readonly time: string; readonly hostname: string; readonly paths: readonly string[] }
  | { readonly type: 'copied'; readonly source: string; readonly destination: string }
  | { readonly type: 'progress'; readonly elapsedMs: number; readonly bytesRead: number; readonly dataAdded: number; readonly done: number; readonly total: number };
