import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { CatalogMarks, blobKey } from './catalog-marks.ts';
import { cacheRoot, openCatalogDb } from './catalog-open.ts';
import { ReadBatch } from './catalog-read-batch.ts';
import { CatalogSessions } from './catalog-sessions.ts';
import type { Mark } from './mark-format.ts';
import type { BlobType, PackBlob } from './pack-format.ts';

export { cacheRoot } from './catalog-open.ts';
export { CatalogReader } from './catalog-reader.ts';

export interface BlobLocation {
  readonly pack: string;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export interface CachedFile {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: bigint;
  readonly content: Buffer;
  /** the node's extended attributes as JSON, when it had any (valid while ctime is unchanged) */
  readonly xattrs?: string | undefined;
  /** from file(): whether the first content blob is in the blob index (answered by the same query) */
  readonly firstInIndex?: boolean;
  /** from file(): a row of a session done at the current blob generation — its blobs are known live (catalog-sessions.ts) */
  readonly trusted?: boolean;
}

const FILES_BATCH = 2048;

export function catalogPath(repoId: string): string {
  return join(cacheRoot(), repoId, 'catalog.db');
}

/**
 * The local catalog: a node:sqlite cache per repository (WAL), in the platform cache directory.
 * It holds the blob index and the files cache. It is only ever a cache: everything in it can be rebuilt from the
 * repository, and a blob is entered only after the index file naming it has been stored.
 * Rows of packs a prune marked are doomed (docs/design.md §12): dedup lookups (`hasBlob`, the files cache,
 * CatalogReader) ignore them, reads (`blob`) still find them. A blob keeps one row, and a live location replaces a
 * doomed one whichever file is imported first, so the result does not depend on the import order.
 */
export class Catalog {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #hasBlob: StatementSync;
  readonly #getBlob: StatementSync;
  readonly #packId: StatementSync;
  readonly #insPack: StatementSync;
  readonly #insBlob: StatementSync;
  readonly #getFile: StatementSync;
  readonly #putFile: StatementSync;
  readonly #marks: CatalogMarks;
  readonly #sessions: CatalogSessions;
  #inTx = false;

  constructor(repoId: string, o: { path?: string; onWarning?: (message: string) => void } = {}) {
    this.path = o.path ?? catalogPath(repoId);
    mkdirSync(join(this.path, '..'), { recursive: true, mode: 0o700 });
    this.#db = openCatalogDb(this.path, o.onWarning);
    this.#marks = new CatalogMarks(this.#db);
    this.#sessions = new CatalogSessions(this.#db);
    this.#hasBlob = this.#db.prepare('SELECT 1 AS x FROM blobs WHERE id = ? AND doomed = 0');
    this.#getBlob = this.#db.prepare('SELECT pid, type, off, len, raw FROM blobs WHERE id = ?');
    this.#packId = this.#db.prepare('SELECT id FROM packs WHERE pid = ?');
    this.#insPack = this.#db.prepare('INSERT OR IGNORE INTO packs(id, idx) VALUES(?, ?) RETURNING pid');
    this.#insBlob = this.#db.prepare(
      'INSERT INTO blobs(id, type, pid, off, len, raw, doomed) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET ' +
        'type = excluded.type, pid = excluded.pid, off = excluded.off, len = excluded.len, raw = excluded.raw, doomed = 0 ' +
        'WHERE blobs.doomed = 1 AND excluded.doomed = 0',
    );
    // A trusted row skips the blob lookup (CASE evaluates lazily): that lookup is most of the query's cost.
    this.#getFile = this.#db.prepare(
      'SELECT f.size, f.mtime, f.ctime, f.inode, f.content, f.xattrs, (s.done = 1 AND s.gen = ?2) AS trusted, ' +
        'CASE WHEN s.done = 1 AND s.gen = ?2 THEN 1 ELSE EXISTS(SELECT 1 FROM blobs WHERE id = substr(f.content, 1, 32) AND doomed = 0) END AS first ' +
        'FROM files f LEFT JOIN sessions s ON s.sess = f.sess WHERE f.path = ?1',
    );
    this.#getFile.setReadBigInts(true);
    this.#reads = new ReadBatch(this.#db, () => this.#sessions.refresh());
    this.#putFile = this.#db.prepare('INSERT OR REPLACE INTO files(path, size, mtime, ctime, inode, content, xattrs, sess) VALUES(?, ?, ?, ?, ?, ?, ?, ?)');
  }

  readonly #reads: ReadBatch;

  hasBlob(id: Uint8Array): boolean {
    this.#reads.enter();
    return this.#hasBlob.get(id) !== undefined;
  }

  blob(id: Uint8Array): BlobLocation | undefined {
    this.#reads.enter();
    const r = this.#getBlob.get(id) as { pid: number; type: number; off: number; len: number; raw: number } | undefined;
    if (!r) return undefined;
    return { pack: this.#packName(r.pid), type: r.type === 1 ? 'tree' : 'data', offset: r.off, length: r.len, rawLength: r.raw };
  }

  /** Pack rows never change their id, so their hex names are memoized (bounded: cleared when large). */
  readonly #packNames = new Map<number, string>();
  #packName(pid: number): string {
    let name = this.#packNames.get(pid);
    if (name === undefined) {
      const row = this.#packId.get(pid) as { id: Uint8Array };
      name = Buffer.from(row.id).toString('hex');
      if (this.#packNames.size >= 65_536) this.#packNames.clear();
      this.#packNames.set(pid, name);
    }
    return name;
  }

  hasPack(id: string): boolean {
    this.#reads.enter();
    return this.#db.prepare('SELECT 1 AS x FROM packs WHERE id = ?').get(Buffer.from(id, 'hex')) !== undefined;
  }

  indexNames(): Set<string> {
    return new Set((this.#db.prepare('SELECT name FROM indexes').all() as { name: string }[]).map((r) => r.name));
  }

  /** Records one stored index file's packs. Idempotent. */
  addIndex(name: string, packs: Iterable<{ id: string; blobs: readonly PackBlob[] }>): void {
    this.transaction(() => {
      this.#insertPacks(name, packs);
      this.#db.prepare('INSERT OR IGNORE INTO indexes(name) VALUES(?)').run(name);
    });
  }

  /**
   * Records one stored mark file: its packs are marked and their rows doomed, its restated entries are entered as
   * live locations, and files-cache entries naming a blob that is now doomed are dropped. Idempotent.
   */
  addMark(name: string, mark: Mark): void {
    const doomed = this.transaction(() => {
      this.#sessions.bump();
      const keys = this.#marks.doom(mark.packs);
      this.#insertPacks(name, mark.restated);
      for (const p of mark.restated) for (const b of p.blobs) keys.delete(blobKey(b.id));
      this.#db.prepare('INSERT OR IGNORE INTO indexes(name) VALUES(?)').run(name);
      return keys;
    });
    this.#marks.purgeFiles(doomed, (fn) => this.transaction(fn));
  }

  /** Whether a prune marked this pack (an imported mark file lists it). */
  isMarkedPack(id: string): boolean {
    this.#reads.enter();
    return this.#marks.isMarked(Buffer.from(id, 'hex'));
  }

  /** Enters blob rows; a row of a marked pack is doomed, and a live location replaces a doomed one. */
  #insertPacks(name: string, packs: Iterable<{ id: string; blobs: readonly PackBlob[] }>): void {
    // Inserting in id order touches each B-tree page once instead of at random: several times faster for big files.
    const rows: { b: PackBlob; pid: number; doomed: number }[] = [];
    for (const p of packs) {
      const id = Buffer.from(p.id, 'hex');
      const row = this.#insPack.get(id, name) as { pid: number } | undefined;
      const pid = row?.pid ?? (this.#db.prepare('SELECT pid FROM packs WHERE id = ?').get(id) as { pid: number }).pid;
      const doomed = this.#marks.isMarked(id) ? 1 : 0;
      for (const b of p.blobs) rows.push({ b, pid, doomed });
    }
    rows.sort((x, y) => Buffer.compare(x.b.id, y.b.id));
    for (const { b, pid, doomed } of rows) this.#insBlob.run(b.id, b.type === 'tree' ? 1 : 0, pid, b.offset, b.length, b.rawLength, doomed);
  }

  /** Forgets the blob index (not the files cache); used when index files disappeared from the repository. */
  clearIndex(): void {
    this.#reads.end();
    this.#packNames.clear();
    this.transaction(() => {
      this.#sessions.bump();
      this.#db.exec('DELETE FROM blobs; DELETE FROM packs; DELETE FROM indexes; DELETE FROM marked_packs;');
    });
  }

  /** False when the files cache is empty (a first backup): lookups can be skipped. */
  hasAnyFile(): boolean {
    return this.#db.prepare('SELECT 1 AS x FROM files LIMIT 1').get() !== undefined;
  }

  hasAnyBlob(): boolean {
    return this.#db.prepare('SELECT 1 AS x FROM blobs LIMIT 1').get() !== undefined;
  }

  counts(): { blobs: number; packs: number } {
    const b = this.#db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number };
    const p = this.#db.prepare('SELECT count(*) AS n FROM packs').get() as { n: number };
    return { blobs: b.n, packs: p.n };
  }

  /** Iterates the whole blob index (stats, check). Streams rows; memory stays flat. */
  *allBlobs(): Generator<{ id: Buffer; type: BlobType; length: number; rawLength: number; pack: string }> {
    const st = this.#db.prepare('SELECT b.id AS id, b.type AS type, b.len AS len, b.raw AS raw, p.id AS pack FROM blobs b JOIN packs p ON p.pid = b.pid');
    for (const r of st.iterate() as Iterable<{ id: Uint8Array; type: number; len: number; raw: number; pack: Uint8Array }>) {
      yield { id: Buffer.from(r.id), type: r.type === 1 ? 'tree' : 'data', length: r.len, rawLength: r.raw, pack: Buffer.from(r.pack).toString('hex') };
    }
  }

  #pendingFiles: { path: Buffer; f: CachedFile; sess: number }[] = [];

  file(path: Buffer): CachedFile | undefined {
    this.#reads.enter();
    const r = this.#getFile.get(path, this.#sessions.gen) as
      | { size: bigint; mtime: bigint; ctime: bigint; inode: bigint; content: Uint8Array; xattrs: string | null; trusted: bigint | null; first: bigint }
      | undefined;
    if (!r) return undefined;
    const content = Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength);
    return { size: Number(r.size), mtimeNs: r.mtime, ctimeNs: r.ctime, inode: r.inode, content, xattrs: r.xattrs ?? undefined, firstInIndex: r.first === 1n, trusted: r.trusted === 1n };
  }

  /** Opens a backup session: files-cache rows written from now on belong to it (see CatalogSessions). */
  beginSession(): void {
    this.transaction(() => this.#sessions.begin());
  }

  /**
   * Ends the session once everything it stored is indexed and its snapshot saved: writes its pending rows and trusts
   * them if no blob left the index meanwhile. Returns whether they are trusted.
   */
  endSession(): boolean {
    this.flushFiles();
    return this.transaction(() => this.#sessions.end());
  }

  /** A hit on a row that was not trusted: written again under the open session (if any), so the next backup trusts it. */
  confirmFile(path: Buffer, f: CachedFile): void {
    if (this.#sessions.current !== 0) this.putFile(path, { size: f.size, mtimeNs: f.mtimeNs, ctimeNs: f.ctimeNs, inode: f.inode, content: f.content, xattrs: f.xattrs });
  }

  /** Queues a files-cache entry; entries are written in short batches so concurrent processes never wait long. */
  putFile(path: Buffer, f: CachedFile): void {
    this.#pendingFiles.push({ path, f, sess: this.#sessions.current });
    if (this.#pendingFiles.length >= FILES_BATCH) this.flushFiles();
  }

  flushFiles(): void {
    const batch = this.#pendingFiles;
    if (batch.length === 0) return;
    this.#pendingFiles = [];
    this.transaction(() => {
      for (const { path, f, sess } of batch) this.#putFile.run(path, f.size, f.mtimeNs, f.ctimeNs, BigInt.asIntN(64, f.inode), f.content, f.xattrs ?? null, sess);
    });
  }

  /** Runs `fn` in one short write transaction (BEGIN IMMEDIATE: waits for other writers up to the busy timeout). */
  transaction<T>(fn: () => T): T {
    if (this.#inTx) return fn();
    this.#reads.end();
    this.#db.exec('BEGIN IMMEDIATE');
    this.#inTx = true;
    try {
      const r = fn();
      this.#db.exec('COMMIT');
      return r;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    } finally {
      this.#inTx = false;
    }
  }

  close(): void {
    this.flushFiles();
    this.#reads.end();
    this.#db.close();
  }
}
