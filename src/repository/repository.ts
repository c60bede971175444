import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { type Backend, type FileType, NotFoundError } from '../backend/backend.ts';
import { Sealer } from '../crypto/aead.ts';
import { type MasterKey, newMasterKey } from '../crypto/master-key.ts';
import { InternalError, IntegrityError, InvalidInputError, throwIfAborted } from '../errors.ts';
import { appendOnlyGuard, appendOnlyRefusal } from './append-only.ts';
import { openBlob } from './blob-codec.ts';
import { Catalog, type BlobLocation } from './catalog.ts';
import { REPO_VERSION, type RepoConfig } from './config.ts';
import { CONFIG_AAD, openConfig, sealConfig } from './repo-open.ts';
import { encodeIndex, type IndexedPack } from './index-format.ts';
import { type KeyFileMeta, makeKeyFile } from './keyfile.ts';
import { type IndexDirFile, decodeIndexDirFile } from './mark-format.ts';
import type { FinishedPack } from './pack-format.ts';
import { loadPackHeader } from './pack-header.ts';
import { MetadataCache } from './metadata-cache.ts';
import { PackJournal } from './pack-journal.ts';
import type { SpooledPack } from './pack-spool.ts';
import { decodePayload, encodePayload } from './payload.ts';
import { sha256Hex } from './ids.ts';
import { readFileRange } from '../platform/read-range.ts';

export interface InitOptions {
  readonly chunker?: { min: number; avg: number; max: number };
  readonly compression?: number;
  readonly packSize?: number;
  readonly kdf?: { memory?: number; passes?: number; parallelism?: number };
  readonly appendOnly?: boolean;
  /** the master key's chunker secret (32 bytes), taken from another repository (`init --copy-chunker-params`) */
  readonly chunkerKey?: Buffer;
}

export interface OpenOptions {
  readonly signal?: AbortSignal;
  /** Where the catalog lives; defaults to the platform cache dir. */
  readonly catalogPath?: string;
  /** Told about damage found while opening that does not stop the command (a damaged index file is skipped). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Index files are flushed when this many packs or blobs are pending, bounding memory (small files make packs of
 * thousands of blobs) and what a crash leaves unindexed.
 */
const INDEX_FLUSH_PACKS = 64;
const INDEX_FLUSH_BLOBS = 50_000;

/**
 * An open, unlocked repository: config, master key, sealed file access, the blob index (through the catalog),
 * and the write path for packs (packs -> index -> snapshot).
 */
export class Repository {
  readonly backend: Backend;
  readonly config: RepoConfig;
  readonly key: MasterKey;
  readonly sealer: Sealer;
  readonly catalog: Catalog;
  readonly keyName: string;
  #pending: IndexedPack[] = [];
  #journal: PackJournal | undefined;
  #metadataCache: MetadataCache | undefined;
  #pendingBlobs = 0;
  /** Told the names of the packs each index file covered (and the file's name), once the catalog holds their blobs. */
  indexListener: ((packs: readonly string[], name: string) => void) | undefined;

  private constructor(backend: Backend, config: RepoConfig, key: MasterKey, keyName: string, catalog: Catalog) {
    this.backend = config.appendOnly ? appendOnlyGuard(backend) : backend;
    this.config = config;
    this.key = key;
    this.keyName = keyName;
    this.sealer = new Sealer(key.encrypt);
    this.catalog = catalog;
  }

  static async init(backend: Backend, password: string, o: InitOptions & OpenOptions = {}): Promise<Repository> {
    const fresh = newMasterKey();
    if (o.chunkerKey !== undefined && o.chunkerKey.length !== 32) throw new InvalidInputError('chunker key must be 32 bytes');
    const key: MasterKey = o.chunkerKey ? { ...fresh, chunker: Buffer.from(o.chunkerKey) } : fresh;
    const config: RepoConfig = {
      version: REPO_VERSION,
      id: randomBytes(32).toString('hex'),
      chunker: o.chunker ?? { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024 },
      compression: o.compression ?? 1,
      packSize: o.packSize ?? 16 * 1024 * 1024,
      appendOnly: o.appendOnly ?? false,
    };
    await backend.create(o.signal ? { signal: o.signal } : undefined);
    const kf = await makeKeyFile(password, key, o.kdf);
    const kbytes = Buffer.from(JSON.stringify(kf, null, 2));
    const kname = sha256Hex(kbytes);
    await backend.save({ type: 'key', name: kname }, kbytes);
    await backend.save({ type: 'config', name: '' }, sealConfig(new Sealer(key.encrypt), config));
    return new Repository(backend, config, key, kname, new Catalog(config.id, o.catalogPath ? { path: o.catalogPath } : {}));
  }

  static async open(backend: Backend, password: string, o: OpenOptions = {}): Promise<Repository> {
    let repo: Repository | undefined;
    try {
      const { key, keyName, config } = await openConfig(backend, password, o.signal);
      repo = new Repository(backend, config, key, keyName, new Catalog(config.id, { ...(o.catalogPath ? { path: o.catalogPath } : {}), ...(o.onWarning ? { onWarning: o.onWarning } : {}) }));
      await repo.syncCatalog(o.signal, o.onWarning);
      return repo;
    } catch (e) {
      // a failed open releases what it holds (a remote backend may keep a server process or connections)
      repo?.catalog.close();
      await backend.close().catch(() => {});
      throw e;
    }
  }

  /** Brings the catalog's blob index up to date with the repository's index and mark files. */
  async syncCatalog(signal?: AbortSignal, onWarning?: (message: string) => void): Promise<void> {
    // An index file can vanish between the listing and its load: a prune's sweep replaced it. The replacement was
    // written before the removal, so listing again finds it (and the catalog rebuilds without the old file).
    for (let attempt = 1; !(await this.#syncOnce(signal, onWarning)); attempt++) {
      if (attempt >= 5) throw new IntegrityError('index files keep vanishing while the catalog is brought up to date; is a prune running? try again');
    }
  }

  /** One pass over the index directory; false when a listed file vanished before it could be read. */
  async #syncOnce(signal?: AbortSignal, onWarning?: (message: string) => void): Promise<boolean> {
    const known = this.catalog.indexNames();
    const present = new Set<string>();
    for await (const f of this.backend.list('index', signal ? { signal } : undefined)) present.add(f.name);
    if ([...known].some((n) => !present.has(n))) {
      this.catalog.clearIndex();
      known.clear();
    }
    for (const name of present) {
      if (known.has(name)) continue;
      throwIfAborted(signal);
      let file: IndexDirFile;
      try {
        file = decodeIndexDirFile(await this.loadFile('index', name, signal));
      } catch (e) {
        if (e instanceof NotFoundError) return false;
        if (!(e instanceof IntegrityError || e instanceof InvalidInputError)) throw e;
        // Skipped, not fatal: its blobs look absent (a backup stores them again; a restore names what it lacks).
        onWarning?.(`index file ${name} is damaged and was skipped (${e.message}); run \`pybackup check\` and \`pybackup repair index\``);
        continue;
      }
      // a prune's mark file (docs/design.md §14e) shares the index directory
      if (file.kind === 'mark') this.catalog.addMark(name, file.mark);
      else this.catalog.addIndex(name, file.packs);
    }
    return true;
  }

  /** Loads, verifies (name = SHA-256 of the stored bytes), decrypts and decodes a sealed file. */
  async loadFile(type: Exclude<FileType, 'pack' | 'key'>, name: string, signal?: AbortSignal, o: { fresh?: boolean } = {}): Promise<Buffer> {
    // `fresh`: from the storage itself, never the local metadata cache (check verifies what is stored)
    const cache = type === 'snapshot' && !o.fresh ? this.#metadata : undefined;
    const cached = cache?.get('snapshot', name);
    if (cached && sha256Hex(cached) === name) return decodePayload(this.sealer.open(cached, aadFor(type)));
    if (cached) cache?.drop('snapshot', name);
    const box = await this.backend.load({ type, name }, undefined, signal ? { signal } : undefined);
    if (type !== 'config' && sha256Hex(box) !== name) throw new IntegrityError(`${type} file ${name} does not match its name (corrupted)`);
    const plain = decodePayload(this.sealer.open(box, aadFor(type)));
    cache?.put('snapshot', name, box);
    return plain;
  }

  /** Seals and stores; returns the file's name (SHA-256 of the stored bytes). */
  async saveFile(type: 'index' | 'snapshot' | 'lock', plain: Uint8Array, signal?: AbortSignal): Promise<string> {
    const box = this.sealer.seal(encodePayload(plain, { level: type === 'index' ? 3 : 0 }), aadFor(type));
    const name = sha256Hex(box);
    await this.backend.save({ type, name }, box, signal ? { signal } : undefined);
    return name;
  }

  async loadJson<T>(type: 'snapshot' | 'lock', name: string, signal?: AbortSignal, o: { fresh?: boolean } = {}): Promise<T> {
    const text = (await this.loadFile(type, name, signal, o)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new InvalidInputError(`${type} ${name} is not valid JSON`, { cause: e });
    }
  }

  lookupBlob(id: Uint8Array): BlobLocation | undefined {
    return this.catalog.blob(id);
  }

  /** Reads one blob through the index, verifying it. */
  async loadBlob(id: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
    const loc = this.catalog.blob(id);
    if (!loc) throw new IntegrityError(`blob ${Buffer.from(id).toString('hex')} is not in the index`);
    const cache = loc.type === 'tree' ? this.#metadata : undefined;
    const hex = cache ? Buffer.from(id).toString('hex') : '';
    const cached = cache?.get('tree', hex);
    if (cached) {
      try {
        return openBlob(cached, this.sealer, this.key.id, id, loc.rawLength);
      } catch {
        cache?.drop('tree', hex); // damaged local copy: fetch it again
      }
    }
    const local = cache ? undefined : this.#readLocal(loc);
    if (local) return openBlob(local, this.sealer, this.key.id, id, loc.rawLength);
    const box = await this.backend.load({ type: 'pack', name: loc.pack }, { offset: loc.offset, length: loc.length }, signal ? { signal } : undefined);
    const plain = openBlob(box, this.sealer, this.key.id, id, loc.rawLength);
    cache?.put('tree', hex, box);
    return plain;
  }

  /** sealed blobs read straight from a local pack land here (the plaintext never aliases it) */
  readonly #box = { buf: Buffer.alloc(0) };

  /**
   * A local repository's blob read synchronously (open, pread, close: a few µs from the page cache, where the async
   * load costs tens of µs of main-thread work per call — trees are loaded thousands at a time by restore, ls, find,
   * check). Any failure returns undefined, and the backend's load then reads it (or reports the error) as usual.
   */
  #readLocal(loc: BlobLocation): Buffer | undefined {
    const path = this.backend.localPath?.({ type: 'pack', name: loc.pack });
    if (path === undefined) return undefined;
    try {
      return readFileRange(path, loc.offset, loc.length, this.#box);
    } catch {
      return undefined;
    }
  }

  /** Remote repositories keep snapshot files and tree blobs in a local cache (MetadataCache); local ones need not. */
  get #metadata(): MetadataCache | undefined {
    if (this.backend.spoolDir !== undefined) return undefined;
    return (this.#metadataCache ??= new MetadataCache(join(dirname(this.catalog.path), 'metadata')));
  }

  /** Where packs are spooled while built: the backend's own spool dir, else beside the catalog. */
  get spoolDir(): string {
    return this.backend.spoolDir ?? join(dirname(this.catalog.path), 'spool');
  }

  /** Stores a finished pack (in memory or spooled to a file), then queues its entries for the next index file. */
  async savePack(p: FinishedPack | SpooledPack, signal?: AbortSignal): Promise<void> {
    const o = signal ? { signal } : undefined;
    this.#journalOpen().note(p.id);
    if ('path' in p) {
      try {
        await this.backend.save({ type: 'pack', name: p.id }, { path: p.path, size: p.size }, o);
      } finally {
        await rm(p.path, { force: true });
      }
    } else {
      await this.backend.save({ type: 'pack', name: p.id }, p.data, o);
    }
    this.#pending.push({ id: p.id, blobs: p.blobs });
    this.#pendingBlobs += p.blobs.length;
    if (this.#pending.length >= INDEX_FLUSH_PACKS || this.#pendingBlobs >= INDEX_FLUSH_BLOBS) await this.flushIndex(signal);
  }

  /** Writes an index file for every pack stored so far and enters it into the catalog. */
  async flushIndex(signal?: AbortSignal): Promise<void> {
    if (this.#pending.length === 0) return;
    const packs = this.#pending;
    this.#pending = [];
    this.#pendingBlobs = 0;
    const name = await this.saveFile('index', encodeIndex(packs), signal);
    this.catalog.addIndex(name, packs);
    const ids = packs.map((p) => p.id);
    this.#journal?.done(ids);
    this.indexListener?.(ids, name);
  }

  #journalOpen(): PackJournal {
    return (this.#journal ??= new PackJournal(this.catalog.path));
  }

  /**
   * Indexes the packs that an interrupted writer on this machine stored but never named in an index file (see
   * PackJournal), so a backup after a crash reuses them. Packs that vanished, whose header does not authenticate or
   * that a prune marked are dropped from the journal (they stay unindexed waste for prune). Call before writing.
   */
  async adoptOrphanPacks(signal?: AbortSignal): Promise<{ packs: number; blobs: number }> {
    const journal = this.#journalOpen();
    const dropped: string[] = [];
    let packs = 0;
    let blobs = 0;
    for (const e of journal.claimOrphans()) {
      throwIfAborted(signal);
      // indexed meanwhile, or marked by a prune (which deletes it once no older backup can still index it)
      if (this.catalog.hasPack(e.pack) || this.catalog.isMarkedPack(e.pack)) {
        dropped.push(e.pack);
        continue;
      }
      try {
        const { size } = await this.backend.stat({ type: 'pack', name: e.pack }, signal ? { signal } : undefined);
        const header = await loadPackHeader(this.backend, this.sealer, e.pack, size, signal);
        this.#pending.push({ id: e.pack, blobs: header });
        this.#pendingBlobs += header.length;
        packs++;
        blobs += header.length;
      } catch (err) {
        if (!(err instanceof NotFoundError || err instanceof IntegrityError)) throw err;
        dropped.push(e.pack);
      }
    }
    journal.done(dropped);
    await this.flushIndex(signal);
    return { packs, blobs };
  }

  get pendingPacks(): number {
    return this.#pending.length;
  }

  async close(): Promise<void> {
    if (this.#pending.length > 0) throw new InternalError('repository closed with unindexed packs');
    this.#journal?.close();
    this.catalog.close();
    await this.backend.close();
  }

  /** Refuses (AppendOnlyError) when the repository is append-only; `what` names the refused operation. */
  assertMayDelete(what: string): void {
    if (this.config.appendOnly) throw appendOnlyRefusal(what);
  }

  /**
   * Replaces the config file (an atomic replace: the backend writes a temp file and renames it over). Only
   * settings that do not change how existing data is read may change. Returns the new config; this object keeps
   * the old one, so callers close the repository afterwards.
   */
  async updateConfig(change: Partial<Pick<RepoConfig, 'appendOnly' | 'compression'>>, signal?: AbortSignal): Promise<RepoConfig> {
    const next: RepoConfig = { ...this.config, ...change };
    await this.backend.save({ type: 'config', name: '' }, sealConfig(this.sealer, next), signal ? { signal } : undefined);
    return next;
  }

  /** Adds a key file for another password; `meta` overrides the username/hostname recorded in it. */
  async addKey(password: string, kdf?: InitOptions['kdf'], meta?: KeyFileMeta): Promise<string> {
    const kf = await makeKeyFile(password, this.key, kdf, meta);
    const bytes = Buffer.from(JSON.stringify(kf, null, 2));
    const name = sha256Hex(bytes);
    await this.backend.save({ type: 'key', name }, bytes);
    return name;
  }

  static get defaultUser(): { hostname: string; username: string; uid: number; gid: number } {
    let username = 'unknown';
    let uid = -1;
    let gid = -1;
    try {
      const u = userInfo();
      username = u.username;
      uid = u.uid;
      gid = u.gid;
    } catch {
      // no passwd entry
    }
    return { hostname: hostname(), username, uid, gid };
  }
}

function aadFor(type: FileType): Buffer {
  return type === 'config' ? CONFIG_AAD : Buffer.from(`pybackup ${type}`);
}
