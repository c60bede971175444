/**
 * SFTP step of the benchmark: PyBackup and restic back up the corpus to, and restore it from, a repository served by
 * a real OpenSSH sshd on 127.0.0.1 (test/servers/sshd.ts). PyBackup speaks SSH itself (ssh2); restic runs the
 * system ssh client through `-o sftp.command`. Both authenticate with the same key and check the same known_hosts.
 *
 *   node bench/sftp.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]
 *   node bench/run.ts --sftp        (the regular bench, then this step)
 */
import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Sshd, startSshd } from '../test/servers/sshd.ts';
import { type Corpus, corpusSpec, prepareCorpus } from './corpus.ts';
import { diskUsage, removeTree } from './fsutil.ts';
import { runCapture, runMeasured } from './measure.ts';
import { type StepName, type StepResult, aggregate, cpu, failureText, mb, medianOf, ratioCell, rss, secs, table, valueCell, wall } from './report.ts';
import { PASSWORD } from './tools.ts';
import { diffDigests, digestTree } from './treehash.ts';

export const SFTP_TOOLS = ['pybackup', 'restic'] as const;
export type SftpTool = (typeof SFTP_TOOLS)[number];
const STEPS: readonly StepName[] = ['init', 'initial', 'unchanged', 'restore', 'check'];
const LABEL: Record<SftpTool, string> = { pybackup: 'PyBackup', restic: 'restic' };

export interface SftpBenchResults {
  rounds: number;
  tools: SftpTool[];
  sshd: string;
  restic: string;
  steps: StepResult[];
  problems: string[];
}

interface Ctx {
  readonly sshd: Sshd;
  readonly projectRoot: string;
  readonly workDir: string;
}

/** The command of `step` for `tool`, against the SFTP repository `repoDir` on the sshd. */
function command(c: Ctx, tool: SftpTool, step: StepName, repoDir: string, corpus: string, restoreDir: string): { cmd: string; args: string[] } {
  const s = c.sshd;
  if (tool === 'pybackup') {
    const pyb = process.env['PYBACKUP_BENCH_BIN'] || join(c.projectRoot, 'bin', 'pybackup');
    const r = ['-r', s.location(repoDir)];
    if (step === 'init') return { cmd: pyb, args: [...r, 'init'] };
    if (step === 'restore') return { cmd: pyb, args: [...r, 'restore', '--quiet', 'latest', '--target', restoreDir] };
    if (step === 'check') return { cmd: pyb, args: [...r, 'check', '--read-data', '--quiet'] };
    return { cmd: pyb, args: [...r, 'backup', '--quiet', '--host', 'bench', corpus] };
  }
  const ssh = `ssh -p ${s.port} -i ${s.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${s.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ${s.user}@127.0.0.1 -s sftp`;
  const r = ['-r', `sftp:${s.user}@127.0.0.1:${repoDir}`, '-o', `sftp.command=${ssh}`];
  if (step === 'init') return { cmd: 'restic', args: [...r, 'init'] };
  if (step === 'restore') return { cmd: 'restic', args: [...r, 'restore', '--quiet', 'latest', '--target', restoreDir] };
  if (step === 'check') return { cmd: 'restic', args: [...r, 'check', '--read-data', '--quiet'] };
  return { cmd: 'restic', args: [...r, 'backup', '--quiet', '--host', 'bench', corpus] };
}

function envFor(c: Ctx, tool: SftpTool, cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['SSH_AUTH_SOCK'];
  if (tool === 'restic') return { ...env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cache };
  return {
    ...env,
    PYBACKUP_PASSWORD: PASSWORD,
    XDG_CACHE_HOME: cache,
    NODE_COMPILE_CACHE: join(c.projectRoot, 'bench', 'work', 'node-compile-cache'),
    PYBACKUP_SFTP_KEY: c.sshd.clientKey,
    PYBACKUP_SFTP_KNOWN_HOSTS: c.sshd.knownHosts,
  };
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
    if (st.type === 0x01021994 && st.bavail * st.bsize > Math.max(bytes, 1 << 30) * 4) return '/dev/shm/pybackup-bench-sftp-restore';
  } catch {
    // restore on disk
  }
  return join(workDir, 'sftp', 'restore');
}

/** Runs `rounds` rounds of init, initial and unchanged backup, restore (verified) and check for each tool over SFTP. */
export async function runSftpBench(o: {
  corpus: Corpus;
  projectRoot: string;
  workDir: string;
  logDir: string;
  rounds: number;
  tools: readonly SftpTool[];
  timeoutMs: number;
  log: (s: string) => void;
}): Promise<SftpBenchResults> {
  const base = join(o.workDir, 'sftp');
  await removeTree(join(base, 'sshd'));
  await mkdir(join(base, 'sshd'), { recursive: true });
  await mkdir(o.logDir, { recursive: true });
  const sshd = await startSshd({ dir: join(base, 'sshd') });
  const c: Ctx = { sshd, projectRoot: o.projectRoot, workDir: o.workDir };
  const results: SftpBenchResults = { rounds: o.rounds, tools: [...o.tools], sshd: '', restic: '', steps: [], problems: [] };
  results.sshd = (await runCapture('/usr/sbin/sshd', ['-V'])).stderr.trim().split('\n')[0] ?? '?';
  results.restic = (await runCapture('restic', ['version'])).stdout.trim();
  const expected = o.corpus.baseline;
  const rroot = restoreRoot(o.workDir, o.corpus.manifest.total.bytes);
  o.log(`sftp: sshd on 127.0.0.1:${sshd.port}; repositories in ${join(base, 'repos')}; restores in ${rroot}`);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? [...o.tools] : [...o.tools].reverse();
      for (const [i, tool] of order.entries()) {
        const repoDir = join(base, 'repos', tool);
        const cache = join(base, 'cache', tool);
        const restoreDir = join(rroot, tool);
        await removeTree(repoDir);
        await removeTree(cache);
        await removeTree(restoreDir);
        await mkdir(join(base, 'repos'), { recursive: true });
        await mkdir(cache, { recursive: true });
        let broken: string | undefined;
        for (const step of STEPS) {
          const r: StepResult = { round, tool, position: i + 1, step, status: 'skipped' };
          results.steps.push(r);
          if (broken) {
            r.reason = broken;
            continue;
          }
          if (step === 'initial' || step === 'unchanged') await warmCache(o.corpus.data);
          if (step === 'restore') await mkdir(restoreDir, { recursive: true });
          await runCapture('sync', []);
          const m = await runMeasured(command(c, tool, step, repoDir, o.corpus.data, restoreDir), envFor(c, tool, cache), {
            timeoutMs: o.timeoutMs,
            logBase: join(o.logDir, `sftp-r${round}-${tool}-${step}`),
          });
          r.measurement = m;
          r.status = m.ok ? 'ok' : 'failed';
          if (m.ok && (step === 'initial' || step === 'unchanged')) r.repo = await diskUsage(repoDir);
          if (m.ok && step === 'restore') {
            const d = diffDigests(expected, await digestTree(join(restoreDir, o.corpus.data)));
            r.verify = { ok: d.length === 0, layout: '<target>/<corpus abs path>', details: d };
            if (d.length > 0) {
              r.status = 'failed';
              results.problems.push(`${LABEL[tool]} round ${round}: the tree restored over SFTP differs: ${d.join('; ')}`);
            }
            await removeTree(restoreDir);
          }
          if (r.status !== 'ok') broken = `${step} failed`;
          o.log(`[sftp round ${round}/${o.rounds}] ${LABEL[tool].padEnd(8)} ${step.padEnd(10)} ${r.status === 'ok' ? `${m.wallSec.toFixed(2)} s` : failureText(r)}`);
        }
      }
    }
  } finally {
    await sshd.stop();
  }
  return results;
}

export function renderSftpMarkdown(res: SftpBenchResults, corpusBytes: number): string {
  const spread = res.rounds > 1;
  const has = (t: SftpTool): boolean => res.tools.includes(t);
  const labels: Record<string, string> = { initial: 'initial backup', unchanged: 'unchanged re-backup', restore: 'restore latest', check: 'check --read-data' };
  const rows = (['initial', 'unchanged', 'restore', 'check'] as const).map((step) => {
    const p = aggregate(res, 'pybackup', step);
    const r = aggregate(res, 'restic', step);
    return [
      labels[step] ?? step,
      ...(has('pybackup') ? [valueCell(p, wall, secs, spread)] : []),
      ...(has('restic') ? [valueCell(r, wall, secs, spread)] : []),
      ...(has('pybackup') && has('restic') ? [ratioCell(medianOf(p, wall), medianOf(r, wall))] : []),
      ...(has('pybackup') ? [valueCell(p, cpu, secs, false), valueCell(p, rss, mb, false)] : []),
      ...(has('restic') ? [valueCell(r, cpu, secs, false), valueCell(r, rss, mb, false)] : []),
    ];
  });
  const head = [
    'step',
    ...(has('pybackup') ? ['PyBackup wall s'] : []),
    ...(has('restic') ? ['restic wall s'] : []),
    ...(has('pybackup') && has('restic') ? ['PyBackup/restic'] : []),
    ...(has('pybackup') ? ['PyBackup CPU s', 'PyBackup RSS MB'] : []),
    ...(has('restic') ? ['restic CPU s', 'restic RSS MB'] : []),
  ];
  const init = aggregate(res, 'pybackup', 'initial');
  const t = medianOf(init, wall);
  const lines = [
    '## SFTP repository on a local sshd',
    '',
    `Server: ${res.sshd}, 127.0.0.1, internal-sftp; ${res.restic} through the system ssh client (\`-o sftp.command\`). ` +
      `Median of ${res.rounds} round(s); CPU and RSS are the client's (sshd's share is not counted). > 1.00x means PyBackup is slower.`,
    '',
    table(head, rows),
  ];
  if (t) lines.push('', `PyBackup initial backup over SFTP: ${((corpusBytes / t) / 1e6).toFixed(0)} MB/s of corpus.`);
  const bad = res.steps.filter((r) => r.status === 'failed');
  if (bad.length) lines.push('', ...bad.map((r) => `- ${LABEL[r.tool as SftpTool]} round ${r.round} ${r.step}: ${failureText(r)}`));
  if (res.problems.length) lines.push('', ...res.problems.map((p) => `**PROBLEM:** ${p}`));
  return lines.join('\n');
}

/**
 * Runs only the SFTP step (`node bench/sftp.ts`, `npm run bench -- --sftp-only`): prepares or reuses the corpus, runs
 * the rounds, writes bench/results/<stamp>-sftp[-quick].md (+ .json) and sftp-latest.md. Returns the exit status.
 */
export async function runSftpOnly(o: { quick: boolean; rounds: number; tools: readonly SftpTool[]; timeoutSec: number; corpusDir?: string | undefined }): Promise<number> {
  const benchDir = import.meta.dirname;
  const workDir = join(benchDir, 'work');
  const log = (s: string): void => console.error(s);
  const corpus = await prepareCorpus(resolve(o.corpusDir ?? join(workDir, o.quick ? 'corpus-quick' : 'corpus')), corpusSpec(o.quick), log);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const res = await runSftpBench({
    corpus,
    projectRoot: resolve(benchDir, '..'),
    workDir,
    logDir: join(workDir, 'logs', `${stamp}-sftp`),
    rounds: o.rounds,
    tools: o.tools,
    timeoutMs: o.timeoutSec * 1000,
    log,
  });
  const load = `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end, ${availableParallelism()} CPUs`;
  const md = `# PyBackup benchmark: SFTP (${stamp}${o.quick ? ', quick' : ''})\n\nCorpus: ${corpus.data}, ${(corpus.manifest.total.bytes / 1e6).toFixed(0)} MB in ${corpus.manifest.total.files} files; ${load}.\n\n${renderSftpMarkdown(res, corpus.manifest.total.bytes)}\n`;
  const results = join(benchDir, 'results');
  await mkdir(results, { recursive: true });
  const name = `${stamp}-sftp${o.quick ? '-quick' : ''}`;
  await writeFile(join(results, `${name}.md`), md);
  await writeFile(join(results, `${name}.json`), `${JSON.stringify(res, null, 2)}\n`);
  await writeFile(join(results, 'sftp-latest.md'), md);
  console.log(md);
  return res.problems.length ? 1 : res.steps.some((x) => x.status === 'failed') ? 2 : 0;
}

/** `--tools` of the main bench, narrowed to the tools with an SFTP step. */
export function sftpToolsOf(tools: readonly string[]): SftpTool[] {
  return SFTP_TOOLS.filter((t) => tools.includes(t));
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
    console.log('usage: node bench/sftp.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]');
    return 0;
  }
  const tools = (values.tools ?? SFTP_TOOLS.join(',')).split(',').map((x) => x.trim());
  for (const t of tools) if (!(SFTP_TOOLS as readonly string[]).includes(t)) throw new Error(`--tools: "${t}" is not one of ${SFTP_TOOLS.join(', ')}`);
  const rounds = Number(values.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return await runSftpOnly({ quick: values.quick, rounds, tools: sftpToolsOf(tools), timeoutSec: Number(values.timeout ?? (values.quick ? 600 : 3600)), corpusDir: values.corpus });
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (e) {
    console.error(`bench/sftp: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  }
}
