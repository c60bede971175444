import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { NodeType } from '../model/node.ts';
import { ENTRY_TYPES, type TreeEntry } from '../model/tree-entry.ts';

/**
 * The tree catalog (docs/design.md §17): a local SQLite file beside the blob catalog holding the entries of every
 * tree blob `find`, `history` and `diff` have read, so later runs answer without loading trees again. Trees are
 * content-addressed and immutable, so rows never go stale; a tree that prune removed is merely unused. It is a cache:
 * deleting the file is always safe.
 */
const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS trees(rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries(tree INTEGER NOT NULL, idx INTEGER NOT NULL, name BLOB NOT NULL, type INTEGER NOT NULL,
  mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL, user TEXT, grp TEXT, size INTEGER NOT NULL,
  mtime TEXT NOT NULL, link BLOB, subtree BLOB, content BLOB, content_count INTEGER NOT NULL, meta BLOB NOT NULL,
  PRIMARY KEY(tree, idx)) WITHOUT ROWID;
`;

export function treeCatalogPath(blobCatalogPath: string): string {
  return join(dirname(blobCatalogPath), 'trees.db');
}

/** A row of #getEntries, in column order. */
type Row = [
  name: Uint8Array,
  type: number,
  mode: number,
  uid: number,
  gid: number,
  user: string | null,
  grp: string | null,
  size: number,
  mtime: string,
  link: Uint8Array | null,
  subtree: Uint8Array | null,
  content: Uint8Array | null,
  meta: Uint8Array,
];

const TYPE_CODE = new Map<NodeType, number>(ENTRY_TYPES.map((t, i) => [t, i]));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class TreeCatalog {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #getTree: StatementSync;
  readonly #getEntries: StatementSync;
  readonly #insTree: StatementSync;
  readonly #insEntry: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#getTree = db.prepare('SELECT rowid AS r, n FROM trees WHERE id = ?');
    // rows as arrays: no object with named properties per row (~20% less CPU on big trees)
    this.#getEntries = db.prepare('SELECT name, type, mode, uid, gid, user, grp, size, mtime, link, subtree, content, meta FROM entries WHERE tree = ? ORDER BY idx');
    this.#getEntries.setReturnArrays(true);
    this.#insTree = db.prepare('INSERT OR IGNORE INTO trees(id, n) VALUES(?, ?) RETURNING rowid AS r');
    this.#insEntry = db.prepare(
      'INSERT INTO entries(tree, idx, name, type, mode, uid, gid, user, grp, size, mtime, link, subtree, content, content_count, meta) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  /** Opens (creating) the file; an unreadable or foreign file is replaced once. Throws if that fails too. */
  static open(path: string): TreeCatalog {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      return new TreeCatalog(path, openDb(path));
    } catch {
      for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
      return new TreeCatalog(path, openDb(path));
    }
  }

  /** The entries of tree `id` (raw 32 bytes), or undefined when the tree was never stored here. */
  entries(id: Uint8Array): TreeEntry[] | undefined {
    const t = this.#getTree.get(id) as { r: number; n: number } | undefined;
    if (!t) return undefined;
    if (t.n === 0) return [];
    const rows = this.#getEntries.all(t.r) as unknown as Row[];
    if (rows.length !== t.n) return undefined; // should not happen (one transaction); treat as absent
    return rows.map(fromRow);
  }

  /** Stores a tree's entries in one transaction; a tree another process stored first is left as it is. */
  put(id: Uint8Array, entries: readonly TreeEntry[]): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const t = this.#insTree.get(id, entries.length) as { r: number } | undefined;
      if (t) {
        for (const [i, e] of entries.entries()) {
          this.#insEntry.run(
            t.r,
            i,
            e.name,
            TYPE_CODE.get(e.type) ?? 0,
            e.mode,
            e.uid,
            e.gid,
            e.user ?? null,
            e.group ?? null,
            e.size,
            e.mtime,
            e.linkTarget ?? null,
            e.subtree === undefined ? null : Buffer.from(e.subtree, 'hex'),
            e.content ?? null,
            e.content ? e.content.length / 32 : 0,
            e.meta,
          );
        }
      }
      this.#db.exec('COMMIT');
    } catch (e) {
      rollback(this.#db);
      throw e;
    }
  }

  /** Number of trees stored (for statistics and tests). */
  treeCount(): number {
    return Number((this.#db.prepare('SELECT count(*) AS c FROM trees').get() as { c: number }).c);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function openDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 10_000 });
  try {
    db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16000;');
    db.exec('BEGIN IMMEDIATE');
    try {
      // read inside the write transaction: two processes creating the file at once never both rebuild it
      const v = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
      if (v !== SCHEMA_VERSION) {
        db.exec('DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS trees;');
        db.exec(SCHEMA);
        db.exec(`PRAGMA user_version=${SCHEMA_VERSION}`);
      }
      db.exec('COMMIT');
    } catch (e) {
      rollback(db);
      throw e;
    }
    // a quick read proves the file is a database of ours (a damaged file fails here, not mid-command)
    db.prepare('SELECT count(*) FROM trees WHERE rowid = 0').get();
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function fromRow([name, type, mode, uid, gid, user, grp, size, mtime, link, subtree, content, meta]: Row): TreeEntry {
  return {
    name: buf(name),
    type: ENTRY_TYPES[type] ?? 'file',
    mode,
    uid,
    gid,
    user: user ?? undefined,
    group: grp ?? undefined,
    size,
    mtime,
    linkTarget: link ? buf(link) : undefined,
    subtree: subtree ? buf(subtree).toString('hex') : undefined,
    content: content ? buf(content) : undefined,
    meta: buf(meta),
  };
}

function rollback(db: DatabaseSync): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // no transaction left to roll back (SQLite already ended it)
  }
}
