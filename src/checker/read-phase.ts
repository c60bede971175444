import type { PackInfo } from './check-index.ts';
import type { CheckEvent } from './events.ts';
import type { FindingLog } from './findings.ts';
import type { ReadPool, ReadResult } from './read-data.ts';
import type { CheckRepo } from './structure.ts';
import { type ReadDataSubset, selectPacks } from './subset.ts';
import type { TreeCache } from './tree-cache.ts';

export interface ReadPhase {
  /** resolves when every pack was read and judged */
  readonly done: Promise<void>;
  /** resolves when every pack holding trees that is read was read (they go first), or at once when there are none */
  readonly treesRead: Promise<void>;
  /** packs selected for --read-data; packs read only for their trees are not counted */
  readonly selected: number;
  packsRead: number;
  bytesRead: number;
}

export interface ReadPhaseOptions {
  /** the packs to verify (--read-data); undefined: only the packs that are mostly trees are read, for the walk */
  readonly subset: ReadDataSubset | undefined;
  readonly random?: () => number;
  readonly signal?: AbortSignal;
  readonly log: FindingLog;
  /** damaged packs are added here */
  readonly broken: Set<string>;
  /** verified trees go here, for the tree walk */
  readonly cache: TreeCache;
  readonly onEvent: (e: CheckEvent) => void;
  readonly t0: number;
}

const hasTrees = (p: PackInfo): boolean => p.blobs.some((b) => b.type === 'tree');

/** Packs that are mostly trees are cheaper to read whole (and verify on the workers) than tree by tree. */
export function mostlyTrees(p: PackInfo): boolean {
  let trees = 0;
  let all = 0;
  for (const b of p.blobs) {
    all += b.length;
    if (b.type === 'tree') trees += b.length;
  }
  return trees > 0 && trees * 2 >= all;
}

/**
 * Starts reading packs: those selected for `--read-data` (if any) and, in every case, those that are mostly trees
 * (read whole, their trees verified and parsed on the workers for the walk). Packs holding trees go first, so the
 * tree walk can start early and run beside the data packs. Each verdict becomes findings.
 */
export function startReadPhase(repo: CheckRepo, pool: ReadPool, packs: Iterable<PackInfo>, o: ReadPhaseOptions): ReadPhase {
  const present = [...packs].filter((p): p is PackInfo & { size: number } => p.size !== undefined);
  const chosen = o.subset ? selectPacks(present, o.subset, o.random) : [];
  const counted = new Set<PackInfo>(chosen);
  const forTrees = present.filter((p) => !counted.has(p) && mostlyTrees(p));
  const jobs = [...chosen.filter(hasTrees), ...forTrees, ...chosen.filter((p) => !hasTrees(p))];
  const bytesTotal = chosen.reduce((a, p) => a + p.size, 0);
  let treePacks = jobs.filter(hasTrees).length;
  let treesDone: () => void = () => {};
  const treesRead = treePacks === 0 ? Promise.resolve() : new Promise<void>((r) => (treesDone = r));
  if (o.subset) o.onEvent({ type: 'phase', phase: 'read-data', detail: `${chosen.length} of ${present.length} packs` });
  const phase: ReadPhase = { done: Promise.resolve(), treesRead, selected: chosen.length, packsRead: 0, bytesRead: 0 };
  const onResult = (r: ReadResult): void => {
    if (counted.has(r.pack)) {
      phase.packsRead++;
      phase.bytesRead += r.pack.size ?? 0;
    }
    if (judge(r, o.log)) o.broken.add(r.pack.id);
    const t = r.verdict?.trees;
    if (t) {
      const buf = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      let p = 0;
      t.entries.forEach((i, k) => {
        const len = t.lengths[k] as number;
        const b = r.pack.blobs[i];
        if (b) o.cache.add(b.id.toString('hex'), buf.subarray(p, p + len));
        p += len;
      });
    }
    if (hasTrees(r.pack) && --treePacks === 0) treesDone();
    if (o.subset) o.onEvent({ type: 'progress', phase: 'read-data', done: phase.packsRead, total: chosen.length, bytesDone: phase.bytesRead, bytesTotal, elapsedMs: Date.now() - o.t0 });
  };
  const done = pool.run(repo, jobs, { onResult, wantTrees: () => !o.cache.full, ...(o.signal ? { signal: o.signal } : {}) });
  // a failed run must not leave the tree walk waiting
  done.catch(() => treesDone());
  return Object.assign(phase, { done });
}

/** Turns one read pack's verdict into findings; true when the pack is damaged. */
function judge(r: ReadResult, log: FindingLog): boolean {
  const id = r.pack.id;
  const hexOf = (i: number): string => r.pack.blobs[i]?.id.toString('hex') ?? '';
  if (!r.verdict) {
    const lost = r.pack.blobs.map((b) => b.id.toString('hex')).filter((h) => !log.bad.has(h));
    log.hold({ severity: 'error', code: 'pack-unreadable', pack: id, blobCount: r.pack.blobs.length, message: `pack ${id} could not be read: ${(r.loadError as Error)?.message ?? String(r.loadError)}` }, lost);
    return true;
  }
  const v = r.verdict;
  let damaged = false;
  if (!v.hashOk) {
    damaged = true;
    log.report({ severity: 'error', code: 'pack-hash-mismatch', pack: id, message: `pack ${id}: the SHA-256 of its bytes does not match its name (the file was modified or damaged)` });
  }
  if (v.headerError !== undefined) {
    damaged = true;
    log.report({ severity: 'error', code: 'pack-header-damaged', pack: id, message: `pack ${id}: its header is unreadable: ${v.headerError}` });
  }
  if (v.notInHeader.length > 0) {
    damaged = true;
    const first = hexOf(v.notInHeader[0] as number);
    log.report({ severity: 'error', code: 'pack-header-mismatch', pack: id, blobCount: v.notInHeader.length, message: `pack ${id}: its header does not list ${v.notInHeader.length} of ${r.pack.blobs.length} indexed blobs as the index does (first: ${first})` });
  }
  if (v.extraInHeader > 0) {
    log.report({ severity: 'info', code: 'pack-extra-blobs', pack: id, blobCount: v.extraInHeader, message: `pack ${id} holds ${v.extraInHeader} blobs its index entry does not list` });
  }
  for (const b of v.badBlobs) {
    damaged = true;
    const hex = hexOf(b.i);
    if (log.bad.has(hex)) continue;
    const type = r.pack.blobs[b.i]?.type ?? 'data';
    log.hold({ severity: 'error', code: 'blob-damaged', pack: id, blob: hex, blobType: type, message: `${type} blob ${hex} in pack ${id} is damaged: ${b.message}` }, [hex]);
  }
  return damaged;
}
