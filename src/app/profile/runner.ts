/**
 * `pybackup run PROFILE`: before hooks -> filesystem snapshot -> backup -> snapshot removal -> forget (retention)
 * -> prune (on its cadence) -> check (optional, on its cadence) -> after hooks; on any failure the on-failure hooks.
 * The steps themselves are the commands' code, handed in by the CLI (ProfileSteps); this module decides what runs,
 * in which order, with which environment, and keeps the cadence state. It never prints: it reports RunEvents.
 */
import { AbortedError } from '../../errors.ts';
import { isEmptyPolicy } from '../../prune/policy.ts';
import { lowerPriority } from '../../platform/priority.ts';
import { formatInterval } from '../../scheduler/schedule.ts';
import { type HookVariable, type HookVars, hookEnvironment, redactLocation, runCommands } from './hooks.ts';
import type { Profile } from './profile.ts';
import { isDue, nextPart, profileKey, readState, statePath, updateState } from './state.ts';

export type StepName = 'limits' | 'before' | 'snapshot-create' | 'backup' | 'snapshot-remove' | 'forget' | 'prune' | 'check' | 'after' | 'on-failure';

export interface BackupStepResult {
  readonly snapshotId?: string | undefined;
  readonly errors: number;
  readonly summary?: {
    readonly filesNew: number;
    readonly filesChanged: number;
    readonly filesUnmodified: number;
    readonly dirsNew: number;
    readonly dirsChanged: number;
    readonly dirsUnmodified: number;
    readonly dataAdded: number;
    readonly dataAddedPacked: number;
    readonly totalFilesProcessed: number;
    readonly totalBytesProcessed: number;
  } | undefined;
}

/** The commands' code, bound to the profile by the CLI. */
export interface ProfileSteps {
  backup(o: { readonly sourceMap?: { readonly recorded: string; readonly real: string }; readonly dryRun: boolean }): Promise<BackupStepResult>;
  forget(o: { readonly dryRun: boolean }): Promise<{ readonly removed: number; readonly failed: number }>;
  /** undefined when this build has no prune */
  readonly prune?: ((o: { readonly dryRun: boolean }) => Promise<void>) | undefined;
  check(o: { readonly subset?: string | undefined }): Promise<void>;
  repositoryId(): Promise<string | undefined>;
  close(): Promise<void>;
}

export type RunEvent =
  | { readonly type: 'step'; readonly step: StepName; readonly detail?: string }
  | { readonly type: 'skip'; readonly step: StepName; readonly reason: string }
  | { readonly type: 'command'; readonly step: StepName; readonly command: string; readonly dryRun: boolean }
  | { readonly type: 'warning'; readonly message: string };

export type CadenceOutcome = 'ran' | 'not-due' | 'not-configured' | 'unavailable' | 'skipped';

export interface RunResult {
  readonly profile: string;
  readonly exitCode: number;
  readonly error?: unknown;
  readonly failedStep?: StepName | undefined;
  readonly snapshotId?: string | undefined;
  readonly removed: number;
  readonly prune: CadenceOutcome;
  readonly check: CadenceOutcome;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly configFile: string;
  readonly steps: ProfileSteps;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly statePath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** hook output: to our stdout, or to stderr (with --json) */
  readonly hookStdout: 'inherit' | 'stderr';
  readonly exitCodeFor: (e: unknown) => number;
  readonly onEvent: (e: RunEvent) => void;
}

const CLEANUP_TIMEOUT_MS = 15 * 60_000;

export async function runProfile(p: Profile, o: RunOptions): Promise<RunResult> {
  const now = o.now ?? Date.now;
  const start = now();
  const dryRun = !!o.dryRun;
  const emit = o.onEvent;
  const file = o.statePath ?? statePath();
  const warn = (message: string): void => emit({ type: 'warning', message });
  const vars: HookVars = {
    PYBACKUP_PROFILE: p.name,
    PYBACKUP_CONFIG: o.configFile,
    PYBACKUP_REPOSITORY: redactLocation(p.repository),
    PYBACKUP_PATHS: p.backup.paths.join('\n'),
    PYBACKUP_TAGS: p.backup.tags.join(','),
    PYBACKUP_DRY_RUN: dryRun ? '1' : '0',
    PYBACKUP_STARTED: new Date(start).toISOString(),
    ...(p.backup.host ? { PYBACKUP_HOST: p.backup.host } : {}),
  };
  const set = (k: HookVariable, v: string | number): void => {
    vars[k] = String(v);
  };
  /** hooks and snapshot commands; cleanup commands run even after Ctrl-C (without the signal, with a timeout) */
  const commands = async (list: readonly string[], step: StepName, cleanup = false): Promise<void> => {
    if (list.length === 0) return;
    set('PYBACKUP_DURATION_MS', now() - start);
    if (dryRun) {
      for (const command of list) emit({ type: 'command', step, command, dryRun: true });
      return;
    }
    await runCommands(list, {
      env: hookEnvironment(o.env ?? process.env, { ...vars, PYBACKUP_HOOK: step }, p.passwordEnv ? [p.passwordEnv] : []),
      what: step.startsWith('snapshot') ? `${step} command` : `${step} hook`,
      timeoutMs: p.hooks.timeoutMs ?? (cleanup ? CLEANUP_TIMEOUT_MS : undefined),
      signal: cleanup ? undefined : o.signal,
      keepGoing: cleanup,
      stdout: o.hookStdout,
      onStart: (command) => emit({ type: 'command', step, command, dryRun: false }),
    });
  };

  if (p.limits.nice !== undefined || p.limits.ionice) {
    const r = lowerPriority({ nice: p.limits.nice, ionice: p.limits.ionice });
    if (r.applied.length) emit({ type: 'step', step: 'limits', detail: r.applied.join(', ') });
    for (const w of r.warnings) warn(w);
  }
  let step: StepName = 'before';
  let exitCode = 0;
  let error: unknown;
  let snapshotId: string | undefined;
  let removed = 0;
  let prune: CadenceOutcome = 'skipped';
  let check: CadenceOutcome = p.check ? 'skipped' : 'not-configured';
  try {
    await commands(p.hooks.before, 'before');
    let sourceMap: { recorded: string; real: string } | undefined;
    let snapshotMade = false;
    let backupOk = false;
    let removeError: unknown;
    try {
      if (p.snapshot) {
        set('PYBACKUP_SNAPSHOT_MOUNT', p.snapshot.mount);
        set('PYBACKUP_SNAPSHOT_ORIGIN', p.snapshot.origin);
        if (dryRun) emit({ type: 'skip', step: 'snapshot-create', reason: 'dry run: the live paths are read' });
        else {
          step = 'snapshot-create';
          snapshotMade = true; // remove runs even when create failed half-way
          emit({ type: 'step', step, detail: `${p.snapshot.origin} at ${p.snapshot.mount}` });
          await commands(p.snapshot.create, step);
          sourceMap = { recorded: p.snapshot.origin, real: p.snapshot.mount };
        }
      }
      step = 'backup';
      emit({ type: 'step', step, detail: sourceMap ? `${p.backup.paths.join(', ')} from ${sourceMap.real}` : p.backup.paths.join(', ') });
      const b = await o.steps.backup({ ...(sourceMap ? { sourceMap } : {}), dryRun });
      snapshotId = b.snapshotId;
      if (b.snapshotId) set('PYBACKUP_SNAPSHOT_ID', b.snapshotId);
      set('PYBACKUP_BACKUP_ERRORS', b.errors);
      const s = b.summary;
      if (s) {
        const pairs = [
          ['PYBACKUP_FILES_NEW', s.filesNew], ['PYBACKUP_FILES_CHANGED', s.filesChanged], ['PYBACKUP_FILES_UNMODIFIED', s.filesUnmodified],
          ['PYBACKUP_DIRS_NEW', s.dirsNew], ['PYBACKUP_DIRS_CHANGED', s.dirsChanged], ['PYBACKUP_DIRS_UNMODIFIED', s.dirsUnmodified],
          ['PYBACKUP_DATA_ADDED', s.dataAdded], ['PYBACKUP_DATA_ADDED_PACKED', s.dataAddedPacked],
          ['PYBACKUP_TOTAL_FILES', s.totalFilesProcessed], ['PYBACKUP_TOTAL_BYTES', s.totalBytesProcessed],
        ] as const;
        for (const [k, v] of pairs) set(k, v);
      }
      if (b.errors > 0) exitCode = 3;
      backupOk = true;
    } finally {
      if (snapshotMade && p.snapshot) {
        emit({ type: 'step', step: 'snapshot-remove' });
        try {
          await commands(p.snapshot.remove, 'snapshot-remove', true);
        } catch (e) {
          // after a failed backup its error is the one reported; the removal's is a warning
          if (!backupOk) warn((e as Error).message);
          else removeError = e;
        }
      }
    }
    if (removeError !== undefined) {
      step = 'snapshot-remove';
      throw removeError;
    }
    const repoId = await o.steps.repositoryId();
    // a dry run reads the cadences too (to say what would run), but writes nothing
    const repoState = repoId ? readState(file, warn).repositories[repoId] : undefined;

    step = 'forget';
    if (isEmptyPolicy(p.retention)) emit({ type: 'skip', step, reason: 'no retention rules' });
    else {
      emit({ type: 'step', step });
      const r = await o.steps.forget({ dryRun });
      removed = r.removed;
      set('PYBACKUP_SNAPSHOTS_REMOVED', r.removed);
      if (r.failed > 0) exitCode = Math.max(exitCode, 3);
    }

    step = 'prune';
    if (p.pruneEveryMs === undefined) prune = 'not-configured';
    else if (!o.steps.prune) {
      prune = 'unavailable';
      emit({ type: 'skip', step, reason: 'this build of pybackup has no prune command yet; unreferenced data stays until a later version prunes it' });
    } else if (!isDue(repoState?.lastPrune, p.pruneEveryMs, now())) {
      prune = 'not-due';
      emit({ type: 'skip', step, reason: `not due: last prune ${repoState?.lastPrune}, prune-every ${formatInterval(p.pruneEveryMs)}` });
    } else {
      emit({ type: 'step', step, ...(dryRun ? { detail: 'dry run' } : {}) });
      await o.steps.prune({ dryRun });
      prune = 'ran';
      if (!dryRun && repoId) updateState((s) => void (s.repositories[repoId] = { ...s.repositories[repoId], lastPrune: new Date(now()).toISOString() }), file, warn);
    }
    set('PYBACKUP_PRUNE', prune);

    step = 'check';
    if (p.check) {
      const fresh = repoId ? readState(file, warn).repositories[repoId] : undefined;
      if (p.checkEveryMs !== undefined && !isDue(fresh?.lastCheck, p.checkEveryMs, now())) {
        check = 'not-due';
        emit({ type: 'skip', step, reason: `not due: last check ${fresh?.lastCheck}, check-every ${formatInterval(p.checkEveryMs)}` });
      } else if (dryRun) {
        check = 'skipped';
        emit({ type: 'skip', step, reason: 'dry run' });
      } else {
        const rotate = /^\s*rotate\s*\/\s*(\d+)\s*$/.exec(p.checkReadDataSubset ?? '');
        const t = rotate ? Number(rotate[1]) : 0;
        const part = rotate ? nextPart(fresh?.checkPart, t) : 0;
        const subset = rotate ? `${part}/${t}` : p.checkReadDataSubset;
        emit({ type: 'step', step, ...(subset ? { detail: `read data ${subset}` } : {}) });
        await o.steps.check({ subset });
        check = 'ran';
        if (repoId) {
          updateState((s) => {
            s.repositories[repoId] = { ...s.repositories[repoId], lastCheck: new Date(now()).toISOString(), ...(rotate ? { checkPart: { n: part, t } } : {}) };
          }, file, warn);
        }
      }
    }
    set('PYBACKUP_CHECK', check);

    step = 'after';
    set('PYBACKUP_EXIT_CODE', exitCode);
    await commands(p.hooks.after, 'after');
  } catch (e) {
    error = o.signal?.aborted && !(e instanceof AbortedError) ? new AbortedError('interrupted', { cause: e }) : e;
    exitCode = Math.max(1, o.exitCodeFor(error));
    set('PYBACKUP_EXIT_CODE', exitCode);
    set('PYBACKUP_ERROR', (error as Error)?.message ?? String(error));
    set('PYBACKUP_FAILED_STEP', step);
    try {
      await commands(p.hooks.onFailure, 'on-failure', true);
    } catch (e2) {
      warn((e2 as Error).message);
    }
  } finally {
    await o.steps.close().catch(() => {});
  }
  const durationMs = now() - start;
  if (!dryRun) {
    const key = profileKey(o.configFile, p.name);
    try {
      updateState((s) => {
        const old = s.profiles[key] ?? {};
        s.profiles[key] = {
          ...old,
          lastRun: new Date(start).toISOString(),
          lastExitCode: exitCode,
          lastDurationMs: durationMs,
          ...(snapshotId ? { lastSnapshot: snapshotId } : {}),
          ...(error === undefined ? { lastSuccess: new Date(start).toISOString() } : {}),
        };
        if (error === undefined) delete s.profiles[key]?.lastError;
        else (s.profiles[key] as { lastError?: string }).lastError = (error as Error)?.message ?? String(error);
      }, file, warn);
    } catch (e) {
      warn(`cannot write the profile state ${file}: ${(e as Error).message}`);
    }
  }
  return { profile: p.name, exitCode, ...(error !== undefined ? { error, failedStep: step } : {}), snapshotId, removed, prune, check, durationMs };
}
