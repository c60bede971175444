import type { MaxUnused } from './prune-events.ts';

/** One live pack as the used set sees it (bytes are stored blob box lengths). */
export interface PackUsage {
  readonly id: string;
  /** stored size of the pack file */
  readonly size: number;
  readonly usedBlobs: number;
  readonly unusedBlobs: number;
  readonly usedBytes: number;
  readonly unusedBytes: number;
  /** holds tree blobs (repacked whenever partly used, as restic does) */
  readonly hasTree: boolean;
}

export type PackAction = 'keep' | 'repack' | 'mark';

export interface PackChoice {
  readonly actions: ReadonlyMap<string, PackAction>;
  readonly reasons: ReadonlyMap<string, string>;
  readonly usedBytes: number;
  readonly unusedBytes: number;
  readonly maxUnusedBytes: number;
  /** stored bytes of the repacked packs, and the used blob bytes copied out of them */
  readonly repackBytes: number;
  readonly repackUsedBytes: number;
  /** unused bytes left in kept packs */
  readonly unusedAfter: number;
}

export interface ChoiceOptions {
  readonly maxUnused: MaxUnused;
  /** at most this many stored bytes are repacked (default: no limit) */
  readonly maxRepackSize?: number;
  /** the repository's target pack size: a pack below 4/5 of it counts as small */
  readonly packSize: number;
}

/**
 * The unused bytes allowed to remain (restic): `x%` means unused ≤ x % of the whole (used + unused), i.e.
 * used · x / (100 − x); a size is absolute; `unlimited` allows any amount.
 */
export function maxUnusedBytes(limit: MaxUnused, used: number): number {
  if (limit.kind === 'unlimited') return Number.POSITIVE_INFINITY;
  if (limit.kind === 'bytes') return limit.value;
  if (limit.value >= 100) return Number.POSITIVE_INFINITY;
  return Math.floor((used * limit.value) / (100 - limit.value));
}

/**
 * Chooses what happens to each live pack (pure; restic's algorithm): a pack without used blobs is marked; partly
 * used packs are repack candidates, taken in order — packs with trees first, then by the share of unused space
 * (highest first) — and repacked until the unused space left is within `maxUnused`, never beyond `maxRepackSize`
 * stored bytes. Tree packs, and data packs smaller than 4/5 of the pack size, are repacked regardless of the unused
 * limit (small packs are merged), but within `maxRepackSize`. `unlimited` repacks nothing. Other packs are kept.
 */
export function choosePacks(packs: readonly PackUsage[], o: ChoiceOptions): PackChoice {
  const actions = new Map<string, PackAction>();
  const reasons = new Map<string, string>();
  let used = 0;
  let unused = 0;
  let removed = 0;
  const candidates: PackUsage[] = [];
  for (const p of packs) {
    used += p.usedBytes;
    unused += p.unusedBytes;
    if (p.usedBlobs === 0) {
      actions.set(p.id, 'mark');
      reasons.set(p.id, 'no used blobs');
      removed += p.unusedBytes;
    } else if (p.unusedBlobs === 0) {
      actions.set(p.id, 'keep');
      reasons.set(p.id, 'fully used');
    } else {
      candidates.push(p);
    }
  }
  candidates.sort((a, b) => {
    if (a.hasTree !== b.hasTree) return a.hasTree ? -1 : 1;
    // a.unused / a.used > b.unused / b.used, without division
    const d = b.unusedBytes * a.usedBytes - a.unusedBytes * b.usedBytes;
    if (d !== 0) return d;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const maxAfter = maxUnusedBytes(o.maxUnused, used);
  const maxRepack = o.maxRepackSize ?? Number.POSITIVE_INFINITY;
  const small = (o.packSize * 4) / 5;
  let repackBytes = 0;
  let repackUsed = 0;
  let repackFreed = 0;
  for (const p of candidates) {
    const reachedUnused = unused - removed - repackFreed < maxAfter;
    let why: string | undefined;
    if (o.maxUnused.kind === 'unlimited') why = undefined;
    else if (repackBytes + p.size > maxRepack) why = undefined;
    else if (p.hasTree) why = 'partly used, holds trees';
    else if (!reachedUnused) why = 'partly used';
    else if (p.size < small) why = 'partly used, small';
    if (why === undefined) {
      actions.set(p.id, 'keep');
      reasons.set(p.id, o.maxUnused.kind === 'unlimited' ? 'partly used (--max-unused unlimited)' : repackBytes + p.size > maxRepack ? 'partly used (--max-repack-size reached)' : 'partly used (within --max-unused)');
      continue;
    }
    actions.set(p.id, 'repack');
    reasons.set(p.id, why);
    repackBytes += p.size;
    repackUsed += p.usedBytes;
    repackFreed += p.unusedBytes;
  }
  return { actions, reasons, usedBytes: used, unusedBytes: unused, maxUnusedBytes: maxAfter, repackBytes, repackUsedBytes: repackUsed, unusedAfter: unused - removed - repackFreed };
}
