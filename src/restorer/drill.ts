import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.ts';
import type { Repository } from '../repository/repository.ts';
import { listSnapshots, matchesFilter, SnapshotNotFoundError, type SnapshotFilter } from '../repository/snapshots.ts';
import type { DrillEvent, DrillSummary } from './drill-events.ts';
import { selectDrillSnapshots, snapshotDirNames } from './drill-select.ts';
import { checkRestoredEntry, createContentChecker } from './drill-verify.ts';
import { walkFiles, type WalkedFile } from './drill-walk.ts';
import { createExactPathFilter } from './exact-path-filter.ts';
import { Restorer } from './restorer.ts';
import { Sampler, type SampleSpec, seededRandom } from './sample.ts';

export interface DrillOptions {
  readonly sample: SampleSpec;
  /** drill the newest `snapshots` snapshots (default: the latest of each host + path set) */
  readonly snapshots?: number;
  readonly filter: SnapshotFilter;
  /** seeds the sample (default: random, reported in the summary) */
  readonly seed?: string;
  /** where the temporary restore directory is made (default: the system temp directory) */
  readonly target?: string;
  /** leave the restored files in place */
  readonly keep: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: DrillEvent) => void;
}

type DrillRepo = Pick<Repository, 'backend' | 'loadJson' | 'saveFile' | 'loadBlob' | 'catalog' | 'key' | 'config'>;

interface Picked {
  readonly snap: number;
  readonly file: WalkedFile;
}

/**
 * A restore drill: picks snapshots, takes a random sample of their files and symlinks while walking the trees
 * (only the sample is held), restores exactly those through the Restorer into a fresh temporary directory, and then
 * checks every restored entry independently of the restore path (see checkRestoredEntry). The core never prints:
 * failures and progress go to `onEvent`.
 */
export async function runDrill(repo: DrillRepo, o: DrillOptions): Promise<DrillSummary> {
  const start = Date.now();
  const emit = (e: DrillEvent): void => o.onEvent?.(e);
  const signal = o.signal ? { signal: o.signal } : {};
  let errors = 0;
  const warn = (message: string, error: boolean): void => {
    if (error) errors++;
    emit({ type: 'warning', message, error });
  };
  const all = await listSnapshots(repo, { ...signal, onError: (name, e) => warn(`snapshot ${name} cannot be read: ${(e as Error).message}`, true) });
  if (all.length === 0) throw new SnapshotNotFoundError('nothing to drill: the repository has no snapshots');
  const matching = all.filter((s) => matchesFilter(s, o.filter));
  if (matching.length === 0) throw new SnapshotNotFoundError('nothing to drill: no snapshot matches --host/--tag/--path');
  const snaps = selectDrillSnapshots(matching, o.snapshots);
  const seed = o.seed ?? randomBytes(4).toString('hex');
  const parent = o.target ?? tmpdir();
  let root: string;
  try {
    mkdirSync(parent, { recursive: true });
    root = mkdtempSync(join(parent, 'pybackup-drill-'));
  } catch (e) {
    throw new InvalidInputError(`cannot make a drill directory in ${parent}: ${(e as Error).message}`, { cause: e });
  }
  emit({ type: 'start', snapshots: snaps.map((s) => ({ id: s.id, time: s.time, hostname: s.hostname, paths: s.paths })), seed, target: root });
  const tick = throttle(250);
  let passed = 0;
  let failed = 0;
  let sample: Picked[] = [];
  let seen = 0;
  let bytes = 0;
  try {
    // 1. sample while walking
    const sampler = new Sampler<Picked>(o.sample, seededRandom(seed));
    for (const [snap, s] of snaps.entries()) {
      const onTreeError = (path: string, e: unknown): void => {
        errors++;
        emit({ type: 'failure', snapshot: s.id, path, problems: [`directory cannot be read: ${(e as Error).message}`] });
      };
      for await (const file of walkFiles(repo, s.tree, { ...signal, onTreeError })) {
        sampler.offer({ snap, file });
        if (tick()) emit({ type: 'progress', phase: 'sample', elapsedMs: Date.now() - start, done: sampler.seen, total: 0 });
      }
    }
    sample = sampler.take();
    seen = sampler.seen;
    bytes = sample.reduce((n, p) => n + (p.file.node.type === 'file' ? (p.file.node.size ?? 0) : 0), 0);
    emit({ type: 'sampled', filesSeen: seen, filesSampled: sample.length, bytes });

    // 2. restore the sample, one Restorer run per snapshot
    const dirs = snapshotDirNames(snaps).map((d) => join(root, d));
    const restoreErrors = new Map<string, string[]>();
    let restored = 0;
    for (const [snap, s] of snaps.entries()) {
      const picked = sample.filter((p) => p.snap === snap);
      if (picked.length === 0) continue;
      const restorer = new Restorer(repo, {
        target: dirs[snap] as string,
        filter: createExactPathFilter(picked.map((p) => p.file.path)),
        overwrite: 'always',
        delete: false,
        verify: false,
        sparse: false,
        dryRun: false,
        ...signal,
        onEvent: (e) => {
          if (e.type === 'warning') restoreErrors.set(e.path, [...(restoreErrors.get(e.path) ?? []), e.message]);
          else if (e.type === 'progress') emit({ type: 'progress', phase: 'restore', elapsedMs: Date.now() - start, done: restored + e.filesDone, total: sample.length });
        },
      });
      await restorer.run({ treeId: s.tree, snapshotPath: '' });
      restored += picked.length;
    }

    // 3. check every sampled entry against its node
    const checker = createContentChecker(repo);
    const notes = new Set<string>();
    for (const [i, p] of sample.entries()) {
      const path = Buffer.concat([Buffer.from(dirs[p.snap] as string), p.file.raw]);
      const key = path.toString();
      const problems = (restoreErrors.get(key) ?? []).map((m) => `restore error: ${m}`);
      restoreErrors.delete(key);
      const r = await checkRestoredEntry(path, p.file.node, checker, { ...signal, contentOnly: problems.length > 0 });
      problems.push(...r.problems);
      for (const n of r.notes) notes.add(n);
      if (problems.length === 0) passed++;
      else {
        failed++;
        emit({ type: 'failure', snapshot: (snaps[p.snap] as { id: string }).id, path: p.file.path, problems });
      }
      if (tick() || i === sample.length - 1) emit({ type: 'progress', phase: 'verify', elapsedMs: Date.now() - start, done: i + 1, total: sample.length });
    }
    for (const n of notes) warn(n, false);
    for (const [path, msgs] of restoreErrors) for (const m of msgs) warn(`restore error: ${path}: ${m}`, true);
  } finally {
    if (!o.keep) {
      try {
        removeTree(Buffer.from(root));
      } catch (e) {
        warn(`could not remove ${root}: ${(e as Error).message}`, false);
      }
    }
  }
  const summary: DrillSummary = {
    type: 'summary',
    snapshots: snaps.length,
    filesSeen: seen,
    filesSampled: sample.length,
    bytes,
    passed,
    failed,
    errors,
    elapsedMs: Date.now() - start,
    seed,
    target: root,
    kept: o.keep,
  };
  emit(summary);
  return summary;
}

function throttle(ms: number): () => boolean {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}

/** rm -rf that first makes every directory writable (restored directories may be read-only). */
function removeTree(p: Buffer): void {
  const open = (d: Buffer): void => {
    chmodSync(d, 0o700);
    for (const e of readdirSync(d, { encoding: 'buffer', withFileTypes: true })) {
      if (e.isDirectory()) open(Buffer.concat([d, Buffer.from('/'), e.name]));
    }
  };
  try {
    open(p);
  } catch {
    // rmSync reports what is left
  }
  rmSync(p, { recursive: true, force: true });
}
