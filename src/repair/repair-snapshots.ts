import { blobIdOf } from '../crypto/master-key.ts';
import { throwIfAborted } from '../errors.ts';
import type { Node } from '../model/node.ts';
import type { Snapshot, SnapshotWithId } from '../model/snapshot.ts';
import { encodeTree } from '../model/tree-encode.ts';
import type { BlobType } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import type { Repository } from '../repository/repository.ts';
import { listSnapshots, resolveSnapshot, saveSnapshot } from '../repository/snapshots.ts';
import type { RepairPhase, RepairSink, SnapshotPlan, SnapshotsRepairSummary } from './events.ts';
import { BlobPackWriter } from '../repository/maintenance/pack-writer.ts';
import { listPackSizes, reason, removeFiles } from '../repository/maintenance/repo-state.ts';
import { isDamage, TreeRewriter } from './tree-rewrite.ts';

export type SnapshotsRepairRepo = Pick<
  Repository,
  'backend' | 'key' | 'sealer' | 'config' | 'loadJson' | 'loadBlob' | 'lookupBlob' | 'saveFile' | 'savePack' | 'flushIndex' | 'indexListener' | 'assertMayDelete'
>;

export interface SnapshotsRepairOptions {
  /** snapshot ids, unique prefixes or "latest"; none: every snapshot */
  readonly snapshots?: readonly string[];
  /** remove each original once its repaired snapshot is stored */
  readonly forget?: boolean;
  /** plan only: walk and report, change nothing */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent: RepairSink;
}

export const REPAIRED_TAG = 'repaired';

/** The repaired copy of `s`: the same fields, the new tree, tag `repaired`, and what was left out. */
function repairedSnapshot(s: SnapshotWithId, plan: SnapshotPlan): Snapshot {
  const { id: _id, ...body } = s;
  const tags = body.tags ?? [];
  return {
    ...body,
    tree: plan.newTree as string,
    tags: tags.includes(REPAIRED_TAG) ? tags : [...tags, REPAIRED_TAG],
    original: s.id,
    repaired: { removed: [...plan.removed], ...(plan.removedMore > 0 ? { removedMore: plan.removedMore } : {}) },
  };
}

/**
 * `repair snapshots`: walks each snapshot's trees; files whose content is no longer available (not in the index, or
 * in a pack that does not exist) are left out, unreadable directories become empty ones, and changed trees are
 * written bottom-up. Each changed snapshot gets a new snapshot with the same fields, tag `repaired`, `original`
 * (the damaged snapshot's id) and `repaired.removed`. The original is kept unless `forget`. A snapshot whose root
 * tree is unreadable cannot be repaired and is left as it is, even with `forget`.
 * Write order: tree packs -> their index file -> new snapshots -> (forget) originals removed, so a crash leaves
 * unused trees, or both snapshots, never a snapshot that references missing data.
 */
export async function repairSnapshots(repo: SnapshotsRepairRepo, o: SnapshotsRepairOptions): Promise<SnapshotsRepairSummary> {
  const t0 = Date.now();
  const { signal, onEvent } = o;
  const phase = (p: RepairPhase, detail?: string): void => onEvent({ type: 'phase', phase: p, ...(detail !== undefined ? { detail } : {}) });

  phase('snapshots');
  const onError = (name: string, e: unknown): void =>
    onEvent({ type: 'problem', problem: { severity: 'warning', code: 'snapshot-unreadable', snapshot: name, message: `snapshot ${name} is unreadable and was skipped: ${reason(e)}` } });
  const all = await listSnapshots(repo, { onError, ...(signal ? { signal } : {}) });
  const selected = o.snapshots && o.snapshots.length > 0 ? [...new Set(o.snapshots.map((r) => resolveSnapshot(all, r)))] : all;
  const packs = await listPackSizes(repo, signal);
  const available = (hex: string, type: BlobType): boolean => {
    const loc = repo.lookupBlob(Buffer.from(hex, 'hex'));
    return loc !== undefined && loc.type === type && packs.has(loc.pack);
  };
  const writer = new BlobPackWriter(repo, { signal, onEvent });
  let treesWritten = 0;
  const save = async (nodes: Node[]): Promise<string> => {
    const plain = encodeTree(nodes);
    const id = blobIdOf(repo.key.id, plain);
    const hex = id.toString('hex');
    if (o.dryRun || writer.has(hex) || available(hex, 'tree')) return hex;
    await writer.add(id, 'tree', encodePayload(plain, { level: repo.config.compression }), plain.length);
    treesWritten++;
    return hex;
  };
  const rewriter = new TreeRewriter(repo, available, save, signal);

  phase('trees', `${selected.length} snapshots`);
  const plans: { s: SnapshotWithId; plan: SnapshotPlan }[] = [];
  for (const s of selected) {
    throwIfAborted(signal);
    let plan: SnapshotPlan;
    try {
      const r = await rewriter.rewrite(s.tree);
      const removed = { removed: r.removed.map((p) => `/${p}`), removedMore: r.removedCount - r.removed.length };
      const done = r.id === s.tree ? undefined : all.find((x) => x.original === s.id && x.tree === r.id);
      if (r.id === s.tree) plan = { snapshot: s.id, action: 'unchanged', removed: [], removedMore: 0 };
      else if (done) plan = { snapshot: s.id, action: 'already-repaired', ...removed, newTree: r.id, repairedAs: done.id };
      else plan = { snapshot: s.id, action: 'repair', ...removed, newTree: r.id };
    } catch (e) {
      if (!isDamage(e)) throw e;
      const why = `its root tree ${s.tree} is unreadable (${reason(e)})`;
      plan = { snapshot: s.id, action: 'unrepairable', removed: [], removedMore: 0, reason: why };
      const message = `snapshot ${s.id} cannot be repaired: ${why}; it is left as it is`;
      onEvent({ type: 'problem', problem: { severity: 'error', code: 'snapshot-unrepairable', snapshot: s.id, message, hint: 'restore what you can from other snapshots; "forget" removes it' } });
    }
    plans.push({ s, plan });
    onEvent({ type: 'snapshot-plan', plan, dryRun: !!o.dryRun });
  }

  const count = (a: SnapshotPlan['action']): number => plans.filter((p) => p.plan.action === a).length;
  const toForget = o.forget ? plans.filter((p) => p.plan.action === 'repair' || p.plan.action === 'already-repaired').map((p) => p.s.id) : [];
  const summary = (written: number, forgotten: number): SnapshotsRepairSummary => ({
    snapshots: plans.length,
    repaired: o.dryRun ? count('repair') : written,
    unchanged: count('unchanged'),
    alreadyRepaired: count('already-repaired'),
    unrepairable: count('unrepairable'),
    forgotten,
    treesWritten,
    dryRun: !!o.dryRun,
    elapsedMs: Date.now() - t0,
  });
  if (o.dryRun) return summary(0, 0);
  if (toForget.length > 0) repo.assertMayDelete('repair snapshots --forget');

  if (count('repair') > 0) phase('write');
  await writer.flush();
  let written = 0;
  for (const { s, plan } of plans) {
    if (plan.action !== 'repair') continue;
    throwIfAborted(signal);
    const id = await saveSnapshot(repo, repairedSnapshot(s, plan), signal);
    written++;
    onEvent({ type: 'written', fileType: 'snapshot', name: id, detail: `repairs ${s.id}` });
  }
  let forgotten = 0;
  if (toForget.length > 0) {
    phase('remove');
    forgotten = await removeFiles(repo, 'snapshot', toForget, onEvent, signal);
  }
  return summary(written, forgotten);
}
