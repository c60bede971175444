import type { RunEvent, RunResult, StepName } from '../../app/profile/runner.ts';
import { PyBackupError } from '../../errors.ts';
import { formatDuration, type Output } from './output.ts';

const STEP: Readonly<Record<StepName, string>> = {
  limits: 'priority lowered',
  before: 'before hook',
  'snapshot-create': 'filesystem snapshot',
  backup: 'backup',
  'snapshot-remove': 'removing the filesystem snapshot',
  forget: 'forget (retention)',
  prune: 'prune',
  check: 'check',
  after: 'after hook',
  'on-failure': 'on-failure hook',
};

/** Renders a profile run's events: `[profile] step: detail` lines, or NDJSON profile_* messages with --json. */
export function profileRenderer(out: Output, profile: string): (e: RunEvent) => void {
  const tag = `[${profile}]`;
  return (e) => {
    if (out.json) {
      if (e.type === 'warning') out.line({ message_type: 'profile_warning', profile, message: e.message });
      else if (e.type === 'command') out.line({ message_type: 'profile_command', profile, step: e.step, command: e.command, dry_run: e.dryRun });
      else out.line({ message_type: e.type === 'step' ? 'profile_step' : 'profile_skip', profile, step: e.step, ...(e.type === 'step' ? (e.detail ? { detail: e.detail } : {}) : { reason: e.reason }) });
      return;
    }
    switch (e.type) {
      case 'warning':
        out.warn(`${tag} warning: ${e.message}`);
        return;
      case 'command':
        out.info(`${tag} ${e.dryRun ? 'would run ' : ''}${e.step.startsWith('snapshot') ? `${e.step} command` : `${e.step} hook`}: ${e.command}`);
        return;
      case 'skip':
        out.info(`${tag} ${STEP[e.step]} skipped: ${e.reason}`);
        return;
      case 'step':
        out.info(`${tag} ${STEP[e.step]}${e.detail ? `: ${e.detail}` : ''}`);
    }
  };
}

function errorText(e: unknown): string {
  if (e instanceof PyBackupError && e.code !== 'INTERNAL') return e.message;
  return `internal error (a bug): ${(e as Error)?.stack ?? String(e)}`;
}

/** The last line of a run: what it did, or where and why it failed (on stderr, with --json too). */
export function renderRunResult(out: Output, r: RunResult): void {
  const tag = `[${r.profile}]`;
  if (r.error !== undefined) out.warn(`${tag} failed during ${STEP[r.failedStep ?? 'backup']} (exit ${r.exitCode}): ${errorText(r.error)}`);
  if (out.json) {
    out.line({
      message_type: 'profile_summary',
      profile: r.profile,
      exit_code: r.exitCode,
      duration_ms: r.durationMs,
      ...(r.snapshotId ? { snapshot_id: r.snapshotId } : {}),
      snapshots_removed: r.removed,
      prune: r.prune,
      check: r.check,
      ...(r.error !== undefined ? { failed_step: r.failedStep, error: (r.error as Error)?.message ?? String(r.error) } : {}),
    });
    return;
  }
  if (r.error !== undefined) return;
  const parts = [
    r.snapshotId ? `snapshot ${r.snapshotId.slice(0, 8)}` : 'no snapshot (dry run)',
    `${r.removed} snapshot${r.removed === 1 ? '' : 's'} forgotten`,
    `prune ${r.prune}`,
    `check ${r.check}`,
  ];
  out.info(`${tag} done in ${formatDuration(r.durationMs)}${r.exitCode === 3 ? ' (some files could not be read)' : ''}: ${parts.join(', ')}`);
}
