import type { DatabaseSync } from 'node:sqlite';

/**
 * The catalog's tables (docs/design.md §12). `blobs.doomed` is 1 for a row whose pack a prune marked
 * (`marked_packs`): dedup lookups ignore such rows, reads still find them. `files.sess` is the backup session that
 * wrote the row; `sessions` and meta `blobgen` decide which rows are trusted without checking their blobs
 * (catalog-sessions.ts).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS indexes(name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS packs(pid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, idx TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, type INTEGER NOT NULL, pid INTEGER NOT NULL,
  off INTEGER NOT NULL, len INTEGER NOT NULL, raw INTEGER NOT NULL, doomed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marked_packs(id BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files(path BLOB PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
  ctime INTEGER NOT NULL, inode INTEGER NOT NULL, content BLOB NOT NULL, xattrs TEXT, sess INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions(sess INTEGER PRIMARY KEY, gen INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
INSERT OR IGNORE INTO meta(k, v) VALUES('blobgen', '1');
`;
export const SCHEMA_VERSION = '4';

/**
 * Creates the tables, or upgrades them, keeping the files cache: from version 2 the blob table gains its `doomed`
 * column, from 2 and 3 the files table its `sess` column (0: written by no known session, so its blobs are checked);
 * any other older or unknown version is dropped and rebuilt. One transaction, so that processes opening the catalog
 * together never upgrade it twice.
 */
export function prepareSchema(db: DatabaseSync): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  db.exec('BEGIN IMMEDIATE');
  try {
    const v = (db.prepare("SELECT v FROM meta WHERE k='schema'").get() as { v: string } | undefined)?.v;
    if (v === '2') db.exec('ALTER TABLE blobs ADD COLUMN doomed INTEGER NOT NULL DEFAULT 0');
    if (v === '2' || v === '3') {
      db.exec('ALTER TABLE files ADD COLUMN sess INTEGER NOT NULL DEFAULT 0');
    } else if (v !== undefined && v !== SCHEMA_VERSION) {
      db.exec('DROP TABLE IF EXISTS indexes; DROP TABLE IF EXISTS packs; DROP TABLE IF EXISTS blobs; DROP TABLE IF EXISTS marked_packs; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS sessions;');
    }
    db.exec(SCHEMA);
    if (v !== SCHEMA_VERSION) db.prepare("INSERT OR REPLACE INTO meta(k, v) VALUES('schema', ?)").run(SCHEMA_VERSION);
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}
