import { renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PyBackupError } from '../errors.ts';
import { prepareSchema } from './catalog-schema.ts';

/**
 * Opens (creating) the catalog database in WAL mode. It is only a cache: a file that is not (or no longer) a SQLite
 * database is moved aside and the catalog is rebuilt from the repository. A file system without the shared-memory
 * maps and locks that WAL needs (9p, some network shares) fails with "disk I/O error": that is the user's setup, not
 * a bug, so it gets a plain error that says what to do.
 */
export function openCatalogDb(path: string, onWarning?: (message: string) => void): DatabaseSync {
  try {
    return openOnce(path);
  } catch (e) {
    if (e instanceof PyBackupError) throw e;
    const primary = ((e as { errcode?: number }).errcode ?? 0) & 0xff;
    if (primary !== SQLITE_CORRUPT && primary !== SQLITE_NOTADB) throw catalogIoError(path, e);
    const aside = `${path}.damaged-${Date.now()}`;
    try {
      renameSync(path, aside);
      for (const ext of ['-wal', '-shm']) rmSync(`${path}${ext}`, { force: true });
    } catch (moveError) {
      throw catalogIoError(path, moveError);
    }
    onWarning?.(`the local catalog ${path} was damaged (${(e as Error).message}); it was moved to ${aside} and is rebuilt from the repository`);
    try {
      return openOnce(path);
    } catch (again) {
      throw catalogIoError(path, again);
    }
  }
}

const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

function openOnce(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 10_000 });
  try {
    db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16000;');
    prepareSchema(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

function catalogIoError(path: string, e: unknown): PyBackupError {
  return new PyBackupError(
    'IO',
    `cannot open the local catalog ${path}: ${(e as Error).message}. It must be on a local file system with working file locks and shared memory maps (not 9p or most network shares): point PYBACKUP_CACHE_DIR at a local directory`,
    { cause: e },
  );
}

export function cacheRoot(): string {
  const env = process.env.PYBACKUP_CACHE_DIR;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'pybackup');
}
