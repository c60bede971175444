import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { Node } from '../../model/node.ts';
import type { Repository } from '../../repository/repository.ts';
import { createPathFilter } from '../../restorer/path-filter.ts';
import { type OverwriteMode, Restorer } from '../../restorer/restorer.ts';
import type { RestoreSummary } from '../../restorer/events.ts';
import { UsageError } from '../../errors.ts';

export const OVERWRITE_MODES: readonly OverwriteMode[] = ['if-changed', 'always', 'if-newer', 'never'];

/** A restore started from the UI; what the status endpoint reports. */
export interface JobStatus {
  readonly id: string;
  state: 'running' | 'done' | 'failed';
  readonly what: string;
  readonly target: string;
  readonly started: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** the first warnings (files that could not be restored) */
  readonly warnings: { path: string; message: string }[];
  warningCount: number;
  summary?: RestoreSummary;
  error?: string;
}

export interface StartRestore {
  readonly root: { treeId: string; snapshotPath: string } | { node: Node; snapshotPath: string };
  readonly what: string;
  readonly target: string;
  readonly overwrite: string;
}

const MAX_WARNINGS = 50;
const MAX_JOBS = 100;

/** The UI's restore jobs: each runs in the background; the pages read their status. */
export class RestoreJobs {
  readonly #repo: Repository;
  readonly #signal: AbortSignal;
  readonly #jobs = new Map<string, JobStatus>();
  readonly #running = new Set<Promise<void>>();

  constructor(repo: Repository, signal: AbortSignal) {
    this.#repo = repo;
    this.#signal = signal;
  }

  get(id: string): JobStatus | undefined {
    return this.#jobs.get(id);
  }

  /** Checks the request and starts the restore; returns the job at once. */
  start(r: StartRestore): JobStatus {
    if (!isAbsolute(r.target)) throw new UsageError('the target directory must be an absolute path, e.g. /home/ann/restored');
    if (r.target.includes('\0')) throw new UsageError('the target directory may not contain NUL');
    if (!(OVERWRITE_MODES as readonly string[]).includes(r.overwrite)) throw new UsageError(`overwrite must be one of ${OVERWRITE_MODES.join(', ')}`);
    if ([...this.#jobs.values()].some((j) => j.state === 'running' && j.target === r.target)) throw new UsageError(`a restore into ${r.target} is already running`);
    const job: JobStatus = { id: randomBytes(9).toString('base64url'), state: 'running', what: r.what, target: r.target, started: new Date().toISOString(), filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, warnings: [], warningCount: 0 };
    this.#remember(job);
    const restorer = new Restorer(this.#repo, {
      target: r.target,
      filter: createPathFilter({}),
      overwrite: r.overwrite as OverwriteMode,
      delete: false,
      verify: false,
      sparse: false,
      dryRun: false,
      signal: this.#signal,
      onEvent: (e) => {
        if (e.type === 'progress') Object.assign(job, { filesDone: e.filesDone, filesTotal: e.filesTotal, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal });
        else if (e.type === 'warning') {
          job.warningCount++;
          if (job.warnings.length < MAX_WARNINGS) job.warnings.push({ path: e.path, message: e.message });
        }
      },
    });
    const p = restorer.run(r.root).then(
      (s) => {
        job.summary = s;
        Object.assign(job, { state: s.errors > 0 ? 'failed' : 'done', filesDone: s.filesRestored + s.filesSkipped, filesTotal: s.filesRestored + s.filesSkipped, bytesDone: s.bytesTotal, bytesTotal: s.bytesTotal });
        if (s.errors > 0) job.error = `${s.errors} errors while restoring`;
      },
      (e: unknown) => {
        job.state = 'failed';
        job.error = e instanceof Error ? e.message : String(e);
      },
    );
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p));
    return job;
  }

  /** Waits for the running restores (they end soon after the server's signal aborts). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#running);
  }

  #remember(job: JobStatus): void {
    this.#jobs.set(job.id, job);
    if (this.#jobs.size <= MAX_JOBS) return;
    for (const [id, j] of this.#jobs) {
      if (j.state !== 'running') {
        this.#jobs.delete(id);
        break;
      }
    }
  }
}
