/**
 * Lowering this process's CPU and I/O priority (`nice -n N` / `ionice -c 3`) from inside, for profile runs.
 *
 * Linux keeps both per thread, and a new thread inherits them from the thread that creates it. So the running
 * threads (listed in /proc/self/task) are changed one by one, and the threads started later (worker threads, the
 * libuv pool, child processes such as hooks) inherit the values. CPU: `os.setPriority` on each thread id. I/O:
 * util-linux `ionice -p TID...` when it is installed (Node has no ioprio_set); the idle class only has an effect
 * with an I/O scheduler that implements classes (bfq; mq-deadline, kyber and `none` ignore it).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface PriorityRequest {
  /** nice value, -20 (highest) .. 19 (lowest); raising the priority needs privileges */
  readonly nice?: number | undefined;
  readonly ionice?: { readonly class: 'idle' | 'best-effort'; readonly level?: number | undefined } | undefined;
}

export interface PriorityResult {
  /** what was applied, e.g. "nice 19", "ionice idle" */
  readonly applied: readonly string[];
  /** what could not be applied, and why */
  readonly warnings: readonly string[];
}

function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [process.pid];
  }
}

export function lowerPriority(r: PriorityRequest, o: { ionicePath?: string } = {}): PriorityResult {
  const applied: string[] = [];
  const warnings: string[] = [];
  const tids = threadIds();
  if (r.nice !== undefined) {
    const failed: string[] = [];
    for (const tid of tids) {
      try {
        setPriority(tid, r.nice);
      } catch (e) {
        // a thread that ended meanwhile is fine; anything else (EACCES for negative values) is reported
        if ((e as { info?: { code?: string } }).info?.code !== 'ESRCH') failed.push((e as Error).message);
      }
    }
    if (failed.length > 0) warnings.push(`could not set nice ${r.nice}: ${failed[0]}`);
    else applied.push(`nice ${getPriority()}`);
  }
  if (r.ionice) {
    const args = r.ionice.class === 'idle' ? ['-c', '3'] : ['-c', '2', '-n', String(r.ionice.level ?? 7)];
    const res = spawnSync(o.ionicePath ?? 'ionice', [...args, '-p', ...tids.map(String)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const what = r.ionice.class === 'idle' ? 'idle' : `best-effort:${r.ionice.level ?? 7}`;
    if (res.error) warnings.push(`could not set ionice ${what}: ${(res.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the ionice program (util-linux) is not installed' : res.error.message}`);
    else if (res.status !== 0) warnings.push(`could not set ionice ${what}: ${(res.stderr || `exit status ${res.status}`).trim()}`);
    else applied.push(`ionice ${what}`);
  }
  return { applied, warnings };
}
