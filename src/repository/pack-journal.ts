import { hostname } from 'node:os';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { errnoCode } from '../errors.ts';

/** A journal entry: a pack this machine is storing (or stored) that no index file names yet. */
export interface JournalEntry {
  readonly pack: string;
  readonly host: string;
  readonly pid: number;
  readonly time: number;
}

/** Entries of other hosts (a catalog on shared storage) are dropped after this long. */
const FOREIGN_MS = 7 * 24 * 3600_000;

/**
 * The unindexed-pack journal, a table in the catalog database (its own connection). A writer notes a pack before
 * storing it and clears the note once an index file names it. A process killed in between (kill -9, power loss)
 * leaves notes behind; the next backup on this machine adopts those packs (reads their headers and indexes them),
 * so data stored before the crash is reused instead of being uploaded again.
 */
export class PackJournal {
  readonly #db: DatabaseSync;
  readonly #note: StatementSync;
  readonly #done: StatementSync;
  readonly #host = hostname();

  constructor(catalogPath: string) {
    this.#db = new DatabaseSync(catalogPath, { timeout: 10_000 });
    this.#db.exec('CREATE TABLE IF NOT EXISTS unindexed(pack BLOB PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, time INTEGER NOT NULL) WITHOUT ROWID');
    this.#note = this.#db.prepare('INSERT OR REPLACE INTO unindexed(pack, host, pid, time) VALUES(?, ?, ?, ?)');
    this.#done = this.#db.prepare('DELETE FROM unindexed WHERE pack = ?');
  }

  note(pack: string): void {
    this.#note.run(Buffer.from(pack, 'hex'), this.#host, process.pid, Date.now());
  }

  done(packs: readonly string[]): void {
    if (packs.length === 0) return;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const p of packs) this.#done.run(Buffer.from(p, 'hex'));
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  /**
   * Claims the entries left by processes that are gone (same host) and old entries of other hosts: they are
   * re-noted under this process in one transaction, so two backups starting together never adopt the same pack,
   * and a claimer that dies leaves them to the next one.
   */
  claimOrphans(now = Date.now()): JournalEntry[] {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const rows = this.#db.prepare('SELECT pack, host, pid, time FROM unindexed').all() as { pack: Uint8Array; host: string; pid: number; time: number }[];
      const out = rows
        .map((r) => ({ pack: Buffer.from(r.pack).toString('hex'), host: r.host, pid: r.pid, time: r.time }))
        .filter((e) => (e.host === this.#host ? e.pid !== process.pid && !alive(e.pid) : now - e.time > FOREIGN_MS));
      for (const e of out) this.note(e.pack);
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.#db.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) !== 'ESRCH';
  }
}
