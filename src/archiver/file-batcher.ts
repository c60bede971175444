import type { BigIntStats } from 'node:fs';
import { throwIfAborted } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { WorkerPool } from './worker-pool.ts';
import type { FileJob, FileResult } from './worker-protocol.ts';

const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;
const MAX_LOAD = 96 << 20;
const MAX_FILES_IN_FLIGHT = 512;

interface Waiting {
  readonly node: Node;
  readonly path: Buffer;
  readonly st: BigIntStats;
  readonly resolve: (n: Node | undefined) => void;
  readonly reject: (e: unknown) => void;
}

/** Turns a worker's result for a file into its node (undefined: the file is left out of the snapshot). */
export type FileDone = (node: Node, path: Buffer, st: BigIntStats, r: FileResult) => Node | undefined;

/**
 * Hands the files that must be read to the worker pool in batches (up to 64 files or 4 MiB, or whatever has gathered
 * by the next turn of the event loop: one message per batch instead of per file), and holds the walk back while the
 * workers have more than 96 MiB or 512 files queued, so a fast walk cannot fill memory with pending files.
 */
export class FileBatcher {
  readonly #pool: WorkerPool;
  readonly #done: FileDone;
  readonly #signal: AbortSignal | undefined;
  #batch: { files: FileJob[]; nodes: Waiting[]; bytes: number } | undefined;
  #scheduled = false;
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  /** the first file of each batch in the workers: the progress line's "current" */
  readonly current = new Set<string>();

  constructor(pool: WorkerPool, done: FileDone, signal: AbortSignal | undefined) {
    this.#pool = pool;
    this.#done = done;
    this.#signal = signal;
  }

  /** Queues a file (read from `fsPath`); resolves to its node once a worker has read and stored it. */
  async add(node: Node, path: Buffer, st: BigIntStats, fsPath: Buffer): Promise<{ wait: Promise<Node | undefined> }> {
    while (this.#pool.load > MAX_LOAD || this.#inFlight > MAX_FILES_IN_FLIGHT) {
      await new Promise<void>((r) => this.#waiters.push(r));
      throwIfAborted(this.#signal);
    }
    this.#inFlight++;
    const p = new Promise<Node | undefined>((resolve, reject) => {
      const b = (this.#batch ??= { files: [], nodes: [], bytes: 0 });
      b.files.push({ path: fsPath.toString('latin1'), size: Number(st.size), mtimeNs: st.mtimeNs });
      b.nodes.push({ node, path, st, resolve, reject });
      b.bytes += Number(st.size);
      if (b.files.length >= BATCH_FILES || b.bytes >= BATCH_BYTES) this.#dispatch();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#dispatch());
      }
    });
    p.catch(() => {});
    return { wait: p };
  }

  #dispatch(): void {
    this.#scheduled = false;
    const b = this.#batch;
    if (!b) return;
    this.#batch = undefined;
    const first = b.nodes[0]?.path.toString();
    if (first !== undefined) this.current.add(first);
    const leave = (): void => {
      // a failed batch leaves flight too, or the backpressure wait in add() never ends
      this.#inFlight -= b.nodes.length;
      for (const w of this.#waiters.splice(0)) w();
    };
    this.#pool.run(b.files).then(
      (results) => {
        if (first !== undefined) this.current.delete(first);
        b.nodes.forEach((n, i) => {
          try {
            n.resolve(this.#done(n.node, n.path, n.st, results[i] as FileResult));
          } catch (e) {
            n.reject(e);
          }
        });
        leave();
      },
      (e: unknown) => {
        for (const n of b.nodes) n.reject(e);
        leave();
      },
    );
  }
}
