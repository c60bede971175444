import { PyBackupError, throwIfAborted } from '../errors.ts';
import { isHexId } from '../model/tree-parse.ts';
import { parseConfig } from '../repository/config.ts';
import { sha256Hex } from '../repository/ids.ts';
import { type IndexDirFile, decodeIndexDirFile } from '../repository/mark-format.ts';
import { packTrailerSize } from '../repository/pack-format.ts';
import { parseKeyFile } from '../repository/keyfile.ts';
import type { Repository } from '../repository/repository.ts';
import type { CheckIndex } from './check-index.ts';
import type { FindingLog } from './findings.ts';

/** The slice of a repository the checker needs. */
export type CheckRepo = Pick<Repository, 'backend' | 'sealer' | 'key' | 'loadFile' | 'loadJson'>;

export interface CheckedSnapshot {
  readonly id: string;
  readonly tree: string;
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Rethrows cancellation; everything else is a finding. */
function rethrowAbort(e: unknown): void {
  if (e instanceof PyBackupError && e.code === 'ABORTED') throw e;
}

async function names(repo: CheckRepo, type: 'key' | 'index' | 'snapshot', signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for await (const f of repo.backend.list(type, signal ? { signal } : undefined)) out.push(f.name);
  return out.sort();
}

/** The config decrypts and parses; every key file matches its name and parses. Returns the number of keys. */
export async function checkConfigAndKeys(repo: CheckRepo, log: FindingLog, signal?: AbortSignal): Promise<number> {
  try {
    parseConfig((await repo.loadFile('config', '', signal)).toString('utf8'));
  } catch (e) {
    rethrowAbort(e);
    log.report({ severity: 'error', code: 'config-unreadable', message: `config: ${reason(e)}` });
  }
  const keys = await names(repo, 'key', signal);
  for (const name of keys) {
    throwIfAborted(signal);
    try {
      const bytes = await repo.backend.load({ type: 'key', name }, undefined, signal ? { signal } : undefined);
      if (sha256Hex(bytes) !== name) throw new Error('the file does not match its name (corrupted)');
      parseKeyFile(bytes);
    } catch (e) {
      rethrowAbort(e);
      log.report({ severity: 'error', code: 'key-unreadable', message: `key file ${name}: ${reason(e)}` });
    }
  }
  return keys.length;
}

/**
 * Loads every index file from the backend (verified, decrypted, decoded) into `index`, and the packs that prune's
 * mark files list (§14e). Returns the number of index files (mark files not counted).
 */
export async function loadIndexes(repo: CheckRepo, index: CheckIndex, log: FindingLog, signal?: AbortSignal): Promise<number> {
  const files = await names(repo, 'index', signal);
  let count = 0;
  for (const name of files) {
    throwIfAborted(signal);
    let file: IndexDirFile;
    try {
      file = decodeIndexDirFile(await repo.loadFile('index', name, signal));
    } catch (e) {
      rethrowAbort(e);
      log.report({ severity: 'error', code: 'index-unreadable', indexFile: name, message: `index file ${name} is unreadable: ${reason(e)}`, hint: 'the packs it lists show up as unindexed' });
      continue;
    }
    if (file.kind === 'mark') {
      for (const p of file.mark.packs) if (!index.marked.has(p)) index.marked.set(p, name);
      continue;
    }
    count++;
    for (const p of file.packs) {
      if (!index.addPack(name, p)) {
        const first = index.packs.get(p.id)?.indexFile ?? '?';
        log.report({ severity: 'info', code: 'pack-in-several-indexes', pack: p.id, indexFile: name, message: `pack ${p.id} is listed by index files ${first} and ${name}` });
      }
    }
  }
  return count;
}

/** Lists the stored packs: records each indexed pack's size and returns the packs no index lists (id -> size). */
export async function listPacks(repo: CheckRepo, index: CheckIndex, signal?: AbortSignal): Promise<Map<string, number>> {
  const unindexed = new Map<string, number>();
  for await (const f of repo.backend.list('pack', signal ? { signal } : undefined)) {
    const p = index.packs.get(f.name);
    if (p) p.size = f.size;
    else unindexed.set(f.name, f.size);
  }
  return unindexed;
}

/**
 * Compares the index with the pack listing (after `listPacks`): every indexed pack exists, has the size its entries
 * imply, and every entry lies inside it.
 */
export function checkPacks(index: CheckIndex, log: FindingLog): void {
  index.preferPresent();
  for (const p of index.packs.values()) {
    if (p.size === undefined) {
      const lost = p.blobs.map((b) => b.id.toString('hex')).filter((hex) => index.lookup(hex)?.pack === p);
      const mark = index.marked.get(p.id);
      if (mark !== undefined) {
        // deleted by a prune that was interrupted before it removed the index files listing it
        for (const hex of lost) index.gone.add(hex);
        log.report({ severity: 'info', code: 'pack-missing', pack: p.id, indexFile: p.indexFile, message: `pack ${p.id} (listed by index ${p.indexFile}) was deleted by a prune (mark file ${mark})`, hint: 'the next prune removes its index entries' });
        continue;
      }
      log.hold(
        { severity: 'error', code: 'pack-missing', pack: p.id, indexFile: p.indexFile, blobCount: p.blobs.length, message: `pack ${p.id} is missing (listed by index ${p.indexFile} with ${p.blobs.length} blobs)` },
        lost,
      );
      continue;
    }
    let area = 0;
    for (const b of p.blobs) area = Math.max(area, b.offset + b.length);
    const expected = area + packTrailerSize(p.blobs.length);
    if (p.size !== expected) {
      log.report({ severity: 'error', code: 'pack-size-mismatch', pack: p.id, bytes: p.size, message: `pack ${p.id} has ${p.size} bytes, its index entries imply ${expected}` });
    }
    const limit = p.size - packTrailerSize(p.blobs.length);
    for (const b of p.blobs) {
      if (b.offset + b.length <= limit) continue;
      const hex = b.id.toString('hex');
      log.hold(
        { severity: 'error', code: 'blob-out-of-range', pack: p.id, blob: hex, blobType: b.type, message: `${b.type} blob ${hex} lies outside pack ${p.id} (offset ${b.offset}, length ${b.length}, pack size ${p.size})` },
        [hex],
      );
    }
  }
}

/** Loads and validates every snapshot file; `unreadable` counts those that failed (each reported). */
export async function loadSnapshots(repo: CheckRepo, log: FindingLog, signal?: AbortSignal): Promise<{ snapshots: CheckedSnapshot[]; unreadable: number }> {
  const out: CheckedSnapshot[] = [];
  let unreadable = 0;
  for (const name of await names(repo, 'snapshot', signal)) {
    throwIfAborted(signal);
    try {
      const s = await repo.loadJson<Record<string, unknown>>('snapshot', name, signal, { fresh: true });
      if (typeof s !== 'object' || s === null) throw new Error('not a JSON object');
      if (typeof s.time !== 'string' || Number.isNaN(Date.parse(s.time))) throw new Error('invalid time');
      if (!Array.isArray(s.paths) || !s.paths.every((p) => typeof p === 'string')) throw new Error('invalid paths');
      if (!isHexId(s.tree)) throw new Error('invalid tree id');
      out.push({ id: name, tree: s.tree });
    } catch (e) {
      rethrowAbort(e);
      unreadable++;
      log.report({ severity: 'error', code: 'snapshot-unreadable', snapshot: name, message: `snapshot ${name} is unreadable: ${reason(e)}` });
    }
  }
  return { snapshots: out, unreadable };
}
