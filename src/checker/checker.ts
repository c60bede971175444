import { IntegrityError } from '../errors.ts';
import { parseTree } from '../model/tree-parse.ts';
import { openBlob } from '../repository/blob-codec.ts';
import { mapAffected } from './affected.ts';
import { CheckIndex } from './check-index.ts';
import type { CheckEvent, CheckPhase, CheckSummary } from './events.ts';
import { FindingLog } from './findings.ts';
import { reportMarks } from './marks.ts';
import { ReadPool } from './read-data.ts';
import { mostlyTrees, startReadPhase } from './read-phase.ts';
import { checkConfigAndKeys, type CheckRepo, checkPacks, listPacks, loadIndexes, loadSnapshots } from './structure.ts';
import type { ReadDataSubset } from './subset.ts';
import { decodeTreeRefs, TreeCache } from './tree-cache.ts';
import { type TreeLoader, TreeWalker } from './tree-walk.ts';
import { blobsInUnindexedPacks } from './unindexed.ts';

/** Compact trees kept from read-data for the tree walk (beyond that, trees are read again). */
const TREE_CACHE_BYTES = 128 << 20;
const REBUILD_HINT = 'an index file is missing or damaged: do not prune before the index is rebuilt from the packs';

export interface CheckOptions {
  /** read and verify pack data too (`--read-data`, `--read-data-subset`); structure only when undefined */
  readonly readData?: ReadDataSubset;
  /** read-data worker threads (default: one per core) */
  readonly workers?: number;
  readonly signal?: AbortSignal;
  readonly onEvent: (e: CheckEvent) => void;
  /** random source for `x%` and size subsets */
  readonly random?: () => number;
}

/**
 * `check`: verifies the repository's structure from its stored files (config, keys, index files, pack listing,
 * snapshots, every tree) and, with `readData`, the bytes of every selected pack. Findings go to `onEvent`; damage to
 * blobs is mapped to the snapshot paths it affects. Never throws for damage: the summary counts the errors.
 */
export async function runCheck(repo: CheckRepo, o: CheckOptions): Promise<CheckSummary> {
  // with --read-data the workers start (load their modules) while the index is read; otherwise only when needed
  let pool = o.readData ? new ReadPool(repo.key, o.workers) : undefined;
  const getPool = (): ReadPool => (pool ??= new ReadPool(repo.key, o.workers));
  const trees = new TreeCache(TREE_CACHE_BYTES);
  try {
    return await check(repo, o, getPool, trees);
  } finally {
    trees.clear();
    await pool?.close();
  }
}

async function check(repo: CheckRepo, o: CheckOptions, getPool: () => ReadPool, cache: TreeCache): Promise<CheckSummary> {
  const t0 = Date.now();
  const { signal } = o;
  const log = new FindingLog(o.onEvent);
  const phase = (p: CheckPhase, detail?: string): void => o.onEvent({ type: 'phase', phase: p, ...(detail !== undefined ? { detail } : {}) });
  const broken = new Set<string>();

  // index files and the pack listing first: reading packs starts as soon as they are known, and the rest of the
  // structure is checked on this thread meanwhile
  phase('index');
  const index = new CheckIndex();
  const indexFiles = await loadIndexes(repo, index, log, signal);
  const indexUnreadable = log.errors > 0;
  const unindexed = await listPacks(repo, index, signal);
  // packs selected for --read-data, and always those that are mostly trees (read whole, parsed on the workers)
  const read = o.readData || [...index.packs.values()].some((p) => p.size !== undefined && mostlyTrees(p))
    ? startReadPhase(repo, getPool(), index.packs.values(), { subset: o.readData, log, broken, cache, onEvent: o.onEvent, t0, ...(o.random ? { random: o.random } : {}), ...(signal ? { signal } : {}) })
    : undefined;
  // a failure while the structure is checked must not leave the read phase's rejection unhandled
  read?.done.catch(() => {});

  phase('keys');
  await checkConfigAndKeys(repo, log, signal);
  phase('packs');
  checkPacks(index, log);
  for (const p of index.packs.values()) if (p.size === undefined && !index.marked.has(p.id)) broken.add(p.id);
  let duplicates = 0;
  for (const [hex, locs] of index.duplicates()) {
    duplicates++;
    const packs = locs.map((l) => l.pack.id);
    log.report({ severity: 'info', code: 'blob-duplicate', blob: hex, blobType: locs[0]?.blob.type ?? 'data', message: `blob ${hex} is stored ${locs.length} times, in packs ${packs.join(', ')}`, hint: 'prune would remove the extra copies' });
  }
  phase('snapshots');
  const { snapshots, unreadable: snapshotsUnreadable } = await loadSnapshots(repo, log, signal);

  const loadTree: TreeLoader = async (id, sig) => {
    const cached = cache.take(id);
    if (cached) return decodeTreeRefs(cached);
    const loc = index.lookup(id);
    if (!loc) throw new IntegrityError(`tree ${id} is not in any index`);
    const box = await repo.backend.load({ type: 'pack', name: loc.pack.id }, { offset: loc.blob.offset, length: loc.blob.length }, sig ? { signal: sig } : undefined);
    return parseTree(openBlob(box, repo.sealer, repo.key.id, loc.blob.id, loc.blob.rawLength), id);
  };
  const walker = new TreeWalker(index, log, loadTree, signal);
  // with --read-data, the walk runs beside the data packs once the packs holding trees were read (and cached)
  const walk = (read?.treesRead ?? Promise.resolve()).then(async () => {
    phase('trees');
    await walker.walk(snapshots.map((s) => ({ snapshot: s.id, tree: s.tree })));
  });
  await Promise.all([read?.done, walk]);
  reportMarks(index, walker.referenced, log);

  let suggestRepairIndex = indexUnreadable;
  /** unindexed pack -> blobs in it that snapshots need */
  const needed = new Map<string, number>();
  if (unindexed.size > 0 && log.heldCount > 0) {
    const found = await blobsInUnindexedPacks(repo, unindexed, signal);
    log.rewriteHeld((f) => {
      const pack = f.code === 'blob-missing' && f.blob !== undefined ? found.get(f.blob) : undefined;
      if (!pack) return f;
      suggestRepairIndex = true;
      needed.set(pack, (needed.get(pack) ?? 0) + 1);
      return { ...f, pack, message: `${f.message}; it is stored in pack ${pack}, which no index lists`, hint: REBUILD_HINT };
    });
  }
  for (const [id, size] of unindexed) {
    const n = needed.get(id);
    if (n) log.report({ severity: 'warning', code: 'pack-unindexed', pack: id, bytes: size, blobCount: n, message: `pack ${id} is not in any index, but holds ${n} blobs that snapshots use`, hint: REBUILD_HINT });
    else log.report({ severity: 'info', code: 'pack-unindexed', pack: id, bytes: size, message: `pack ${id} is not in any index (${size} bytes)`, hint: 'prune would remove it' });
  }

  let unusedBlobs = 0;
  if (snapshotsUnreadable === 0 && walker.unvisitedTrees === 0) {
    let bytes = 0;
    const packs = new Set<string>();
    for (const [hex, loc] of index.blobs()) {
      if (walker.referenced.has(hex)) continue;
      unusedBlobs++;
      bytes += loc.blob.length;
      packs.add(loc.pack.id);
    }
    if (unusedBlobs > 0) {
      log.report({ severity: 'info', code: 'blobs-unused', blobCount: unusedBlobs, bytes, message: `${unusedBlobs} blobs (${bytes} bytes in ${packs.size} packs) are not used by any snapshot`, hint: 'prune would remove them' });
    }
  }

  if (log.heldCount > 0) {
    phase('paths');
    log.release(await mapAffected({ snapshots, bad: log.bad, load: loadTree, ...(signal ? { signal } : {}) }));
  }
  return {
    indexFiles,
    packs: index.packs.size,
    blobs: index.blobCount,
    snapshots: snapshots.length,
    trees: walker.trees,
    packsRead: read?.packsRead ?? 0,
    bytesRead: read?.bytesRead ?? 0,
    errors: log.errors,
    warnings: log.warnings,
    infos: log.infos,
    brokenPacks: [...broken].sort(),
    suggestRepairIndex,
    suggestPrune: unusedBlobs > 0 || unindexed.size > needed.size || duplicates > 0,
    elapsedMs: Date.now() - t0,
  };
}
