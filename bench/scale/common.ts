/** Shared plumbing of the scale scenarios (bench/scale.ts): paths, options, cache warming, result files. */
import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runCapture } from '../measure.ts';
import { removeTree } from '../fsutil.ts';
import { TOOL_NAMES, type ToolName, isToolName } from '../tools.ts';

export const BENCH_DIR = resolve(import.meta.dirname, '..');
export const PROJECT_ROOT = resolve(BENCH_DIR, '..');
/** Everything the scale scenarios build or run lives here (gitignored, deletable at any time). */
export const SCALE_WORK = join(BENCH_DIR, 'work', 'scale');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export const log = (s: string): void => console.error(s);

export function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
}

export function secsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** "500000", "500k", "1M", "10m" → integer ≥ 1. */
export function parseCount(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  const n = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1e6) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected a positive count like 20000, 20k or 1M; got "${s}"`);
  return n;
}

export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

export function parseTools(list: string | undefined): ToolName[] {
  const tools: ToolName[] = [];
  for (const t of (list ?? TOOL_NAMES.join(',')).split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
    if (!isToolName(t)) throw new Error(`unknown tool "${t}" (known: ${TOOL_NAMES.join(', ')})`);
    if (!tools.includes(t)) tools.push(t);
  }
  if (tools.length === 0) throw new Error('--tools: no tool selected');
  return tools;
}

/** Restores go to a tmpfs when it has room (see run.ts: ext4 is slow to create many files after a mass delete). */
export function chooseRestoreRoot(bytes: number, fallback: string): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.type === 0x01021994 && st.bavail * st.bsize > Math.max(bytes, 1 << 30) * 4) return '/dev/shm/pybackup-bench-scale-restore';
  } catch {
    // no /dev/shm: restore on disk
  }
  return fallback;
}

/** Reads every file under `dir` once (untimed), so the next command sees a warm page cache (as run.ts does). */
export async function warmCache(dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const c = spawn('sh', ['-c', 'find . -type f -print0 | xargs -0 cat > /dev/null'], { cwd: dir, stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve());
  });
}

/** Untimed `sync`, so one command's dirty pages don't land on the next one. */
export async function syncDisks(): Promise<void> {
  await runCapture('sync', [], { timeoutMs: 600_000 });
}

/** Writes `<stamp>-<kind>.md/.json` (gitignored) and `<latest>` (committable) into bench/results/. */
export async function writeResults(runStamp: string, kind: string, latest: string, md: string, data: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const base = `${runStamp}-${kind}`;
  await writeFile(join(RESULTS_DIR, `${base}.md`), `${md}\n`);
  await writeFile(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(data, null, 2)}\n`);
  await writeFile(join(RESULTS_DIR, latest), `${md}\n`);
  return `bench/results/${base}.md (+ .json), bench/results/${latest}`;
}

/**
 * Node's compile cache for PyBackup, kept outside every per-round cache directory: bin/pybackup would otherwise put it
 * under the (deleted) cache dir, and the first command of each round would pay for type-stripping the sources
 * (~0.3 s, and tens of MB of RSS per thread).
 */
export const COMPILE_CACHE = join(SCALE_WORK, 'node-compile-cache');

/** Untimed: init, backup, restore and snapshots of a tiny tree, so the compile cache holds every module a measured command loads. */
export async function warmUpPybackup(bin: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = join(SCALE_WORK, 'warm-up');
  await removeTree(dir);
  await mkdir(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'src', `f${i}.txt`), `warm-up file ${i}\n`.repeat(100 + i));
  const e = { ...env, NODE_COMPILE_CACHE: COMPILE_CACHE, PYBACKUP_CACHE_DIR: join(dir, 'cache') };
  const repo = join(dir, 'repo');
  for (const args of [['init', '--kdf-memory', '8192'], ['backup', '--quiet', join(dir, 'src')], ['restore', '--quiet', 'latest', '--target', join(dir, 'out')], ['snapshots']]) {
    const r = await runCapture(bin, ['-r', repo, ...args], { env: e, timeoutMs: 300_000 });
    if (r.code !== 0) log(`WARNING: warm-up \`pybackup ${args[0] ?? ''}\` failed (exit ${r.code ?? '?'}): ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? ''}`);
  }
  await removeTree(dir);
}
