import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * Which files-cache rows can be trusted without checking their content blobs (docs/design.md §12).
 *
 * The blob generation (meta `blobgen`) goes up, in the same transaction, whenever blob rows leave the dedup index:
 * the index is cleared (index files vanished) or a prune's mark dooms rows. A backup session registers itself with
 * the generation it starts under and writes its files-cache rows with its number. When it ends — every pack it
 * stored indexed, its snapshot saved — it is marked done, but only if the generation is still the one it started
 * under. A row is trusted iff its session is done at the current generation: every blob it names was then a live row
 * (checked at lookup, or stored and indexed by the session) and none has left since. Any other row (written by a
 * session that crashed or overlapped a removal, by an older version, or before a removal) has its blobs checked, and
 * a hit is written again by the current session.
 */
export class CatalogSessions {
  readonly #db: DatabaseSync;
  readonly #getGen: StatementSync;
  readonly #bump: StatementSync;
  /** the generation read at the start of the current read batch (consistent with that batch's lookups) */
  gen = 0;
  /** this process's open session, 0 when none (rows written then are never trusted) */
  current = 0;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#getGen = db.prepare("SELECT CAST(v AS INTEGER) AS g FROM meta WHERE k = 'blobgen'");
    this.#bump = db.prepare("UPDATE meta SET v = CAST(v AS INTEGER) + 1 WHERE k = 'blobgen'");
  }

  /** Reads the generation; call at the start of every read transaction. */
  refresh(): number {
    this.gen = Number((this.#getGen.get() as { g: number } | undefined)?.g ?? 0);
    return this.gen;
  }

  /** In the caller's write transaction: blob rows are leaving the dedup index. */
  bump(): void {
    this.#bump.run();
  }

  /**
   * In the caller's write transaction: opens a session under the current generation, and forgets stale ones — except
   * the newest row, since a new session takes the number after the largest one in the table: were that freed, the next
   * session could get the number of an old one and, once done, vouch for rows it never wrote.
   */
  begin(): void {
    const gen = this.refresh();
    this.#db.prepare('DELETE FROM sessions WHERE gen < ? AND sess < (SELECT max(sess) FROM sessions)').run(gen);
    this.current = Number((this.#db.prepare('INSERT INTO sessions(gen) VALUES(?) RETURNING sess').get(gen) as { sess: number }).sess);
  }

  /** In the caller's write transaction, after everything the session stored is indexed: trusts its rows if no blob left meanwhile. */
  end(): boolean {
    if (this.current === 0) return false;
    const gen = this.refresh();
    const r = this.#db.prepare('UPDATE sessions SET done = 1 WHERE sess = ? AND gen = ?').run(this.current, gen);
    this.current = 0;
    return r.changes === 1;
  }
}
