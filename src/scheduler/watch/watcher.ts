/**
 * Continuous protection (`pybackup watch`): change notifications mark directories; once changes have been quiet for
 * `quietMs` (or have kept coming for `maxDelayMs`), one backup of just those directories runs (the archiver's
 * `onlyChanged`). Changes during a backup collect into the next batch, so a burst of edits gives one or two
 * snapshots, not one per edit. Every `rescanMs` a full incremental backup runs whatever the notifications said,
 * since notifications can be lost; so do the first backup and the one after a source directory comes back.
 * The backup itself is injected: the CLI binds it to a profile and a repository.
 */
import { lstatSync } from 'node:fs';
import { AbortedError } from '../../errors.ts';
import { type Changes, ChangeSet } from './change-set.ts';
import type { WatchEvent } from './events.ts';
import { RootWatcher } from './root-watcher.ts';

export interface WatchBackupResult {
  /** the snapshot that now describes the sources: the new one, or the parent when nothing had changed */
  readonly snapshotId: string | undefined;
  readonly created: boolean;
  readonly dataAdded: number;
  readonly errors: number;
}

export interface WatchOptions {
  /** absolute source paths (directories are watched recursively) */
  readonly roots: readonly string[];
  readonly quietMs: number;
  readonly rescanMs: number;
  /** back up after this long even while changes keep coming (default: 10 quiet periods, at least 5 minutes) */
  readonly maxDelayMs?: number;
  /** wait before retrying a failed backup (default: the quiet period, at least 30 s) */
  readonly retryMs?: number;
  /** how often sources that vanished are looked for (default 1 s) */
  readonly pollMs?: number;
  /** paths whose changes are no reason to back up (excluded ones, the repository, the cache) */
  readonly ignore?: (path: string) => boolean;
  /** `changes.dirs` undefined: a full incremental backup */
  readonly backup: (changes: { readonly dirs?: ReadonlySet<string> }, signal: AbortSignal | undefined) => Promise<WatchBackupResult>;
  readonly onEvent?: (e: WatchEvent) => void;
  readonly signal?: AbortSignal;
}

const isDir = (p: string): boolean => {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Watches until the signal aborts; the first backup runs at once. Resolves after the last backup has ended, telling
 * whether the stop cut a backup short.
 */
export async function watchAndBackup(o: WatchOptions): Promise<{ interrupted: boolean }> {
  const emit = (e: WatchEvent): void => o.onEvent?.(e);
  const maxDelayMs = o.maxDelayMs ?? Math.max(10 * o.quietMs, 300_000);
  const retryMs = o.retryMs ?? Math.max(o.quietMs, 30_000);
  const pollMs = o.pollMs ?? 1000;
  const changes = new ChangeSet();
  const lost = new Set<string>();
  let wake: (() => void) | undefined;
  const kick = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let lastPendingEvent = 0;
  const changed = (path: string): void => {
    if (o.ignore?.(path)) return;
    const wasEmpty = changes.empty;
    changes.add(path, isDir(path), Date.now());
    if (wasEmpty) kick();
    if (wasEmpty || Date.now() - lastPendingEvent >= 1000) {
      lastPendingEvent = Date.now();
      emit({ type: 'pending', dirs: changes.size, full: changes.full, backupInMs: o.quietMs });
    }
  };
  const watchers = o.roots.map(
    (root) =>
      new RootWatcher(root, {
        onChange: changed,
        onLost: () => {
          lost.add(root);
          emit({ type: 'root-lost', root });
          kick();
        },
        onBack: () => {
          lost.delete(root);
          emit({ type: 'root-back', root });
          changes.markFull(`${root} is back`, Date.now());
          kick();
        },
        onError: (message) => emit({ type: 'watch-error', root, message }),
      }),
  );
  let interrupted = false;
  const onAbort = (): void => kick();
  o.signal?.addEventListener('abort', onAbort);
  try {
    for (const w of watchers) {
      if (!w.start(Date.now())) {
        lost.add(w.root);
        emit({ type: 'root-lost', root: w.root });
      }
    }
    emit({ type: 'watching', roots: o.roots, quietMs: o.quietMs, rescanMs: o.rescanMs });
    changes.markFull('first backup', Date.now());
    let lastFull = Date.now();
    let initial = true;
    let retryAt = 0;
    let lastPoll = 0;
    while (!o.signal?.aborted) {
      let now = Date.now();
      if (now - lastPoll >= pollMs) {
        lastPoll = now;
        for (const w of watchers) w.poll(now);
        now = Date.now();
      }
      if (now - lastFull >= o.rescanMs && !changes.full) changes.markFull('periodic rescan', now);
      let dueAt = Number.POSITIVE_INFINITY;
      if (lost.size === 0 && !changes.empty) {
        dueAt = initial ? now : Math.min((changes.last ?? now) + o.quietMs, (changes.first ?? now) + maxDelayMs);
        dueAt = Math.max(dueAt, retryAt);
      }
      if (dueAt <= now) {
        initial = false;
        const batch = changes.take();
        const ok = await runOne(o, batch, emit, retryMs);
        if (!ok && o.signal?.aborted) interrupted = true;
        if (ok) {
          if (batch.full) lastFull = now;
          retryAt = 0;
        } else if (!o.signal?.aborted) {
          changes.restore(batch, Date.now());
          retryAt = Date.now() + retryMs;
        }
        continue;
      }
      const until = Math.min(dueAt, lastFull + o.rescanMs, now + pollMs);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - now));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    for (const w of watchers) w.close();
    emit({ type: 'stopped' });
  }
  return { interrupted };
}

/** Runs one backup and reports it; false when it failed (or was interrupted). */
async function runOne(o: WatchOptions, batch: Changes, emit: (e: WatchEvent) => void, retryMs: number): Promise<boolean> {
  const kind = batch.full ? 'full' : 'partial';
  const started = Date.now();
  emit({ type: 'backup-start', kind, reason: batch.reason, dirs: batch.dirs.size });
  try {
    const r = await o.backup(batch.full ? {} : { dirs: batch.dirs }, o.signal);
    emit({ type: 'backup-done', kind, snapshotId: r.created ? r.snapshotId : undefined, dataAdded: r.dataAdded, durationMs: Date.now() - started, errors: r.errors });
    return true;
  } catch (e) {
    if (o.signal?.aborted || e instanceof AbortedError) return false;
    emit({ type: 'backup-failed', kind, message: (e as Error).message ?? String(e), retryInMs: retryMs });
    return false;
  }
}
