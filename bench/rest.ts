/**
 * REST step of the benchmark: PyBackup and restic back up the corpus to, and restore it from, a repository served by
 * `rclone serve restic` on 127.0.0.1 (the restic REST protocol over HTTP/1.1). Both use `rest:http://127.0.0.1:PORT/<tool>/`.
 *
 *   node bench/rest.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]
 *   node bench/run.ts --rest        (the regular bench, then this step)
 */
import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RcloneServe, startRcloneServe } from '../test/e2e/rclone-serve.ts';
import { type Corpus, corpusSpec, prepareCorpus } from './corpus.ts';
import { diskUsage, removeTree } from './fsutil.ts';
import { runCapture, runMeasured } from './measure.ts';
import { type StepName, type StepResult, aggregate, cpu, failureText, mb, medianOf, ratioCell, rss, secs, table, valueCell, wall } from './report.ts';
import { PASSWORD } from './tools.ts';
import { diffDigests, digestTree } from './treehash.ts';

export const REST_TOOLS = ['pybackup', 'restic'] as const;
export type RestTool = (typeof REST_TOOLS)[number];
const STEPS: readonly StepName[] = ['init', 'initial', 'restore'];
const LABEL: Record<RestTool, string> = { pybackup: 'PyBackup', restic: 'restic' };

export interface RestBenchResults {
  rounds: number;
  tools: RestTool[];
  server: string;
  restic: string;
  steps: StepResult[];
  problems: string[];
}

function command(projectRoot: string, tool: RestTool, step: StepName, repo: string, corpus: string, restoreDir: string): { cmd: string; args: string[] } {
  const cmd = tool === 'restic' ? 'restic' : process.env['PYBACKUP_BENCH_BIN'] || join(projectRoot, 'bin', 'pybackup');
  const r = ['-r', repo];
  if (step === 'init') return { cmd, args: [...r, 'init'] };
  if (step === 'restore') return { cmd, args: [...r, 'restore', '--quiet', 'latest', '--target', restoreDir] };
  return { cmd, args: [...r, 'backup', '--quiet', '--host', 'bench', corpus] };
}

function envFor(projectRoot: string, tool: RestTool, cache: string): NodeJS.ProcessEnv {
  if (tool === 'restic') return { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cache };
  return { ...process.env, PYBACKUP_PASSWORD: PASSWORD, XDG_CACHE_HOME: cache, NODE_COMPILE_CACHE: join(projectRoot, 'bench', 'work', 'node-compile-cache') };
}

async function warmCache(dir: string): Promise<void> {
  await new Promise<void>((res) => {
    const ch = spawn('sh', ['-c', 'find . -type f -print0 | xargs -0 cat > /dev/null'], { cwd: dir, stdio: 'ignore' });
    ch.on('exit', () => res());
    ch.on('error', () => res());
  });
}

function restoreRoot(workDir: string, bytes: number): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.type === 0x01021994 && st.bavail * st.bsize > Math.max(bytes, 1 << 30) * 4) return '/dev/shm/pybackup-bench-rest-restore';
  } catch {
    // restore on disk
  }
  return join(workDir, 'rest', 'restore');
}

/** Runs `rounds` rounds of init, initial backup and restore (verified) for each tool against one `rclone serve restic`. */
export async function runRestBench(o: {
  corpus: Corpus;
  projectRoot: string;
  workDir: string;
  logDir: string;
  rounds: number;
  tools: readonly RestTool[];
  timeoutMs: number;
  log: (s: string) => void;
}): Promise<RestBenchResults> {
  const base = join(o.workDir, 'rest');
  await removeTree(join(base, 'server'));
  await mkdir(join(base, 'server'), { recursive: true });
  await mkdir(o.logDir, { recursive: true });
  const server: RcloneServe = await startRcloneServe(join(base, 'server'));
  const results: RestBenchResults = { rounds: o.rounds, tools: [...o.tools], server: '', restic: '', steps: [], problems: [] };
  results.server = (await runCapture('rclone', ['version'])).stdout.trim().split('\n')[0] ?? '?';
  results.restic = (await runCapture('restic', ['version'])).stdout.trim();
  const rroot = restoreRoot(o.workDir, o.corpus.manifest.total.bytes);
  o.log(`rest: rclone serve restic on ${server.url}; repositories in ${join(base, 'server')}; restores in ${rroot}`);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? [...o.tools] : [...o.tools].reverse();
      for (const [i, tool] of order.entries()) {
        const repoDir = join(base, 'server', tool);
        const cache = join(base, 'cache', tool);
        const restoreDir = join(rroot, tool);
        for (const d of [repoDir, cache, restoreDir]) await removeTree(d);
        await mkdir(cache, { recursive: true });
        let broken: string | undefined;
        for (const step of STEPS) {
          const r: StepResult = { round, tool, position: i + 1, step, status: 'skipped' };
          results.steps.push(r);
          if (broken) {
            r.reason = broken;
            continue;
          }
          if (step === 'initial') await warmCache(o.corpus.data);
          if (step === 'restore') await mkdir(restoreDir, { recursive: true });
          await runCapture('sync', []);
          const spec = command(o.projectRoot, tool, step, `rest:${server.url}${tool}/`, o.corpus.data, restoreDir);
          const m = await runMeasured(spec, envFor(o.projectRoot, tool, cache), { timeoutMs: o.timeoutMs, logBase: join(o.logDir, `rest-r${round}-${tool}-${step}`) });
          r.measurement = m;
          r.status = m.ok ? 'ok' : 'failed';
          if (m.ok && step === 'initial') r.repo = await diskUsage(repoDir);
          if (m.ok && step === 'restore') {
            const d = diffDigests(o.corpus.baseline, await digestTree(join(restoreDir, o.corpus.data)));
            r.verify = { ok: d.length === 0, layout: '<target>/<corpus abs path>', details: d };
            if (d.length > 0) {
              r.status = 'failed';
              results.problems.push(`${LABEL[tool]} round ${round}: the tree restored over REST differs: ${d.join('; ')}`);
            }
            await removeTree(restoreDir);
          }
          if (r.status !== 'ok') broken = `${step} failed`;
          o.log(`[rest round ${round}/${o.rounds}] ${LABEL[tool].padEnd(8)} ${step.padEnd(10)} ${r.status === 'ok' ? `${m.wallSec.toFixed(2)} s` : failureText(r)}`);
        }
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}

export function renderRestMarkdown(res: RestBenchResults, corpusBytes: number): string {
  const spread = res.rounds > 1;
  const has = (t: RestTool): boolean => res.tools.includes(t);
  const both = has('pybackup') && has('restic');
  const labels: Record<string, string> = { initial: 'initial backup', restore: 'restore latest' };
  const rows = (['initial', 'restore'] as const).map((step) => {
    const p = aggregate(res, 'pybackup', step);
    const r = aggregate(res, 'restic', step);
    return [
      labels[step] ?? step,
      ...(has('pybackup') ? [valueCell(p, wall, secs, spread)] : []),
      ...(has('restic') ? [valueCell(r, wall, secs, spread)] : []),
      ...(both ? [ratioCell(medianOf(p, wall), medianOf(r, wall))] : []),
      ...(has('pybackup') ? [valueCell(p, cpu, secs, false), valueCell(p, rss, mb, false)] : []),
      ...(has('restic') ? [valueCell(r, cpu, secs, false), valueCell(r, rss, mb, false)] : []),
    ];
  });
  const head = [
    'step',
    ...(has('pybackup') ? ['PyBackup wall s'] : []),
    ...(has('restic') ? ['restic wall s'] : []),
    ...(both ? ['PyBackup/restic'] : []),
    ...(has('pybackup') ? ['PyBackup CPU s', 'PyBackup RSS MB'] : []),
    ...(has('restic') ? ['restic CPU s', 'restic RSS MB'] : []),
  ];
  const lines = [
    '## REST repository (`rclone serve restic` on 127.0.0.1)',
    '',
    `Server: ${res.server}, HTTP/1.1 on 127.0.0.1; ${res.restic} with \`-r rest:http://127.0.0.1:PORT/restic/\`, PyBackup with ` +
      `\`rest:http://127.0.0.1:PORT/pybackup/\`. Median of ${res.rounds} round(s); CPU and RSS are the client's (the server's share is ` +
      'not counted for either). > 1.00x means PyBackup is slower.',
    '',
    table(head, rows),
  ];
  for (const tool of res.tools) {
    const t = medianOf(aggregate(res, tool, 'initial'), wall);
    if (t) lines.push('', `${LABEL[tool]} initial backup over REST: ${(corpusBytes / t / 1e6).toFixed(0)} MB/s of corpus.`);
  }
  const bad = res.steps.filter((r) => r.status === 'failed');
  if (bad.length) lines.push('', ...bad.map((r) => `- ${LABEL[r.tool as RestTool]} round ${r.round} ${r.step}: ${failureText(r)}`));
  if (res.problems.length) lines.push('', ...res.problems.map((p) => `**PROBLEM:** ${p}`));
  return lines.join('\n');
}

/**
 * Runs only the REST step (`node bench/rest.ts`, `npm run bench -- --rest-only`): prepares or reuses the corpus, runs
 * the rounds, writes bench/results/<stamp>-rest[-quick].md (+ .json) and rest-latest.md. Returns the exit status.
 */
export async function runRestOnly(o: { quick: boolean; rounds: number; tools: readonly RestTool[]; timeoutSec: number; corpusDir?: string | undefined }): Promise<number> {
  const benchDir = import.meta.dirname;
  const workDir = join(benchDir, 'work');
  const log = (s: string): void => console.error(s);
  const corpus = await prepareCorpus(resolve(o.corpusDir ?? join(workDir, o.quick ? 'corpus-quick' : 'corpus')), corpusSpec(o.quick), log);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const loadStart = loadavg().map((x) => x.toFixed(2)).join(' ');
  const res = await runRestBench({
    corpus,
    projectRoot: resolve(benchDir, '..'),
    workDir,
    logDir: join(workDir, 'logs', `${stamp}-rest`),
    rounds: o.rounds,
    tools: o.tools,
    timeoutMs: o.timeoutSec * 1000,
    log,
  });
  const load = `load average ${loadStart} at the start and ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end, ${availableParallelism()} CPUs`;
  const md = `# PyBackup benchmark: REST (${stamp}${o.quick ? ', quick' : ''})\n\nCorpus: ${corpus.data}, ${(corpus.manifest.total.bytes / 1e6).toFixed(0)} MB in ${corpus.manifest.total.files} files; ${load}.\n\n${renderRestMarkdown(res, corpus.manifest.total.bytes)}\n`;
  const results = join(benchDir, 'results');
  await mkdir(results, { recursive: true });
  const name = `${stamp}-rest${o.quick ? '-quick' : ''}`;
  await writeFile(join(results, `${name}.md`), md);
  await writeFile(join(results, `${name}.json`), `${JSON.stringify(res, null, 2)}\n`);
  await writeFile(join(results, 'rest-latest.md'), md);
  console.log(md);
  return res.problems.length ? 1 : res.steps.some((x) => x.status === 'failed') ? 2 : 0;
}

/** `--tools` of the main bench, narrowed to the tools with a REST step. */
export function restToolsOf(tools: readonly string[]): RestTool[] {
  return REST_TOOLS.filter((t) => tools.includes(t));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      tools: { type: 'string' },
      timeout: { type: 'string' },
      corpus: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node bench/rest.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]');
    return 0;
  }
  const tools = (values.tools ?? REST_TOOLS.join(',')).split(',').map((x) => x.trim());
  for (const t of tools) if (!(REST_TOOLS as readonly string[]).includes(t)) throw new Error(`--tools: "${t}" is not one of ${REST_TOOLS.join(', ')}`);
  const rounds = Number(values.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const timeout = Number(values.timeout ?? (values.quick ? 600 : 3600));
  if (!Number.isInteger(timeout) || timeout < 1) throw new Error('--timeout must be a positive integer (seconds)');
  return await runRestOnly({ quick: values.quick, rounds, tools: restToolsOf(tools), timeoutSec: timeout, corpusDir: values.corpus });
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (e) {
    console.error(`bench/rest: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  }
}
