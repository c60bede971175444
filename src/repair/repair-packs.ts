import { throwIfAborted } from '../errors.ts';
import type { IndexedPack } from '../repository/index-format.ts';
import type { Repository } from '../repository/repository.ts';
import type { PackPlan, PacksRepairSummary, RepairPhase, RepairSink } from './events.ts';
import { writeIndexFiles } from '../repository/maintenance/index-writer.ts';
import { resolvePackIds } from './pack-ids.ts';
import { BlobPackWriter } from '../repository/maintenance/pack-writer.ts';
import { type IndexState, listPackSizes, loadIndexState, removeFiles } from '../repository/maintenance/repo-state.ts';
import { type PackVerdict, verifyPack } from './verify-pack.ts';

export type PacksRepairRepo = Pick<
  Repository,
  'backend' | 'sealer' | 'key' | 'config' | 'loadFile' | 'saveFile' | 'savePack' | 'flushIndex' | 'indexListener' | 'syncCatalog' | 'assertMayDelete'
>;

export interface PacksRepairOptions {
  /** pack ids or unique prefixes; none: every indexed pack is read and verified, and the damaged ones repaired */
  readonly packs?: readonly string[];
  /** plan only: read and verify, change nothing */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent: RepairSink;
}

/** Blobs (hex) that a pack outside `targets` holds, which therefore survive whatever happens to the targets. */
function heldElsewhere(state: IndexState, sizes: ReadonlyMap<string, number>, targets: ReadonlySet<string>, wanted: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  if (wanted.size === 0) return out;
  for (const [id, p] of state.packs) {
    if (targets.has(id) || !sizes.has(id)) continue;
    for (const b of p.blobs) {
      const hex = b.id.toString('hex');
      if (wanted.has(hex)) out.add(hex);
    }
  }
  return out;
}

/** The plan for each pack: what can be salvaged, and what is lost (damaged here, held by no other pack). */
function planOf(verdicts: readonly PackVerdict[], state: IndexState, sizes: ReadonlyMap<string, number>): PackPlan[] {
  const targets = new Set(verdicts.map((v) => v.id));
  const salvageable = new Set<string>();
  const damaged = new Set<string>();
  for (const v of verdicts) {
    for (const hex of v.good.keys()) salvageable.add(hex);
    for (const hex of v.bad.keys()) damaged.add(hex);
  }
  const elsewhere = heldElsewhere(state, sizes, targets, damaged);
  return verdicts.map((v) => {
    const lostBlobs = [...v.bad].filter(([hex]) => !salvageable.has(hex) && !elsewhere.has(hex)).map(([id, type]) => ({ id, type }));
    return {
      pack: v.id,
      size: v.size,
      reasons: v.reasons.length > 0 ? v.reasons : ['named for repair; no damage found'],
      blobs: v.good.size + v.bad.size,
      salvage: v.good.size,
      lost: lostBlobs.length,
      elsewhere: v.bad.size - lostBlobs.length,
      lostBlobs,
    };
  });
}

/**
 * `repair packs`: for the named packs (or, with none named, every indexed pack that fails verification), copies
 * every blob that still decrypts and verifies into new packs, then replaces the index files that list the packs
 * with ones that do not, then removes those index files and finally the packs.
 * Write order: new packs -> their index file -> replacement index files -> old index files removed -> old packs
 * removed. A crash leaves salvaged blobs stored twice, or packs listed twice, or the old packs unindexed: all
 * harmless, and a second run finishes the job. Blobs that were lost are reported; `repair snapshots` then removes
 * the files that need them.
 */
export async function repairPacks(repo: PacksRepairRepo, o: PacksRepairOptions): Promise<PacksRepairSummary> {
  const t0 = Date.now();
  const { signal, onEvent } = o;
  const phase = (p: RepairPhase, detail?: string): void => onEvent({ type: 'phase', phase: p, ...(detail !== undefined ? { detail } : {}) });

  phase('index');
  const state = await loadIndexState(repo, onEvent, signal);
  phase('packs');
  const sizes = await listPackSizes(repo, signal);
  const named = o.packs && o.packs.length > 0 ? resolvePackIds(o.packs, [...sizes.keys(), ...state.packs.keys()]) : undefined;
  const candidates = named ?? [...state.packs.keys()].sort();

  phase('verify', named ? `${candidates.length} named packs` : `all ${candidates.length} indexed packs`);
  const verdicts: PackVerdict[] = [];
  const bytesTotal = candidates.reduce((a, id) => a + (sizes.get(id) ?? 0), 0);
  let bytesDone = 0;
  for (const [i, id] of candidates.entries()) {
    throwIfAborted(signal);
    const v = await verifyPack(repo, id, state.packs.get(id)?.blobs, signal ? { signal } : {});
    bytesDone += sizes.get(id) ?? 0;
    onEvent({ type: 'progress', done: i + 1, total: candidates.length, bytesDone, bytesTotal, elapsedMs: Date.now() - t0 });
    if (v.reasons.length > 0) {
      const code = v.size === undefined ? 'pack-missing' : 'pack-damaged';
      onEvent({ type: 'problem', problem: { severity: 'warning', code, pack: id, message: `pack ${id}: ${v.reasons.join('; ')}` } });
    }
    if (named || v.reasons.length > 0) verdicts.push(v);
  }

  const plan = planOf(verdicts, state, sizes);
  onEvent({ type: 'packs-plan', packs: plan, dryRun: !!o.dryRun });
  const summary = (s: Partial<PacksRepairSummary> = {}): PacksRepairSummary => ({
    packs: plan,
    packsVerified: named ? 0 : candidates.length,
    salvaged: 0,
    lost: plan.reduce((a, p) => a + p.lost, 0),
    packsWritten: 0,
    indexFilesWritten: 0,
    indexFilesRemoved: 0,
    packsRemoved: 0,
    dryRun: !!o.dryRun,
    elapsedMs: Date.now() - t0,
    ...s,
  });
  if (o.dryRun || verdicts.length === 0) return summary();

  repo.assertMayDelete('repair packs');
  const targets = new Set(verdicts.map((v) => v.id));
  phase('salvage');
  const writer = new BlobPackWriter(repo, { signal, onEvent });
  let salvaged = 0;
  for (const p of plan) {
    throwIfAborted(signal);
    let n = 0;
    if (p.size !== undefined) {
      // read again, now keeping the payloads: one pack's blobs in memory at a time
      const v = await verifyPack(repo, p.pack, state.packs.get(p.pack)?.blobs, { keepPayloads: true, ...(signal ? { signal } : {}) });
      for (const [hex, g] of v.good) {
        if (g.framed && (writer.has(hex) || (await writer.add(g.entry.id, g.entry.type, g.framed, g.entry.rawLength)))) n++;
      }
    }
    salvaged += n;
    onEvent({ type: 'pack-repaired', pack: p.pack, salvaged: n, lost: p.lost });
  }
  await writer.flush();

  phase('write');
  const superseded = state.files.filter((f) => f.packs.some((p) => targets.has(p.id)));
  const supersededNames = new Set(superseded.map((f) => f.name));
  // packs that stay listed by an index file that is kept need no new entry
  const keptElsewhere = new Set<string>();
  for (const f of state.files) if (!supersededNames.has(f.name)) for (const p of f.packs) keptElsewhere.add(p.id);
  const remaining = new Map<string, IndexedPack>();
  for (const f of superseded) {
    for (const p of f.packs) if (!targets.has(p.id) && !keptElsewhere.has(p.id) && !remaining.has(p.id)) remaining.set(p.id, p);
  }
  const written = await writeIndexFiles(repo, remaining.values(), onEvent, signal);

  phase('remove');
  const indexFilesRemoved = await removeFiles(repo, 'index', supersededNames, onEvent, signal);
  const packsRemoved = await removeFiles(repo, 'pack', [...targets].filter((id) => sizes.has(id)), onEvent, signal);
  await repo.syncCatalog(signal);
  return summary({ salvaged, packsWritten: writer.packs, indexFilesWritten: written.length + writer.indexFiles, indexFilesRemoved, packsRemoved });
}
