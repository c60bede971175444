/**
 * The shared runner of the remote-repository bench steps (bench/rest.ts, bench/sftp.ts): PyBackup and restic back up
 * the corpus to, and restore it from, a repository on a server started on 127.0.0.1. A RemoteBenchSpec says what
 * differs between the steps (the server, how each tool reaches its repository, the steps, the texts); the rounds, the
 * measuring and the verification of the restored tree are here. Rendering and the command line: bench/remote-cli.ts.
 */
import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Corpus } from './corpus.ts';
import { diskUsage, removeTree } from './fsutil.ts';
import { type CommandSpec, runCapture, runMeasured } from './measure.ts';
import { type StepName, type StepResult, failureText } from './report.ts';
import { PASSWORD } from './tools.ts';
import { diffDigests, digestTree } from './treehash.ts';

export const REMOTE_TOOLS = ['pybackup', 'restic'] as const;
export type RemoteTool = (typeof REMOTE_TOOLS)[number];
export const REMOTE_LABEL: Record<RemoteTool, string> = { pybackup: 'PyBackup', restic: 'restic' };

/** The results of one remote step; `K` names the field with the server's version (`server`, `sshd`). */
export type RemoteBenchResults<K extends string> = {
  rounds: number;
  tools: RemoteTool[];
  restic: string;
  steps: StepResult[];
  problems: string[];
} & Record<K, string>;

/** A server started for the step. */
export interface RemoteServer {
  /** For the log: what serves the repositories and where ("rclone serve restic on http://…"). */
  readonly describe: string;
  /** The local directory that holds the repositories, one `<tool>` directory each. */
  readonly reposDir: string;
  /** `-r LOCATION` and any other options by which `tool` reaches its repository at `repoDir`. */
  repoArgs(tool: RemoteTool, repoDir: string): string[];
  /** Environment `tool` needs besides the password and the cache (e.g. keys). */
  env?(tool: RemoteTool): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export interface RemoteBenchSpec<K extends string> {
  /** `rest`, `sftp`: bench/work/<name>, log and result file names, the CLI's name; upper-cased in headings and messages. */
  readonly name: string;
  /**
   * What serves the repositories (`server`, `sshd`): the results field with its version, and its state directory
   * bench/work/<name>/<server>, emptied and then given to `start`.
   */
  readonly server: K;
  /** The steps run per round and tool, in order (`init` first; it is not in the table). */
  readonly steps: readonly StepName[];
  start(dir: string, base: string): Promise<RemoteServer>;
  serverVersion(): Promise<string>;
  /** Environment variables removed for both tools. */
  readonly dropEnv?: readonly string[];
  /** The markdown section: its heading, the paragraph under it, the tools whose MB/s of initial backup are given. */
  readonly heading: string;
  intro(res: RemoteBenchResults<K>): string;
  readonly rateTools: readonly RemoteTool[];
}

export interface RemoteBenchOptions {
  corpus: Corpus;
  projectRoot: string;
  workDir: string;
  logDir: string;
  rounds: number;
  tools: readonly RemoteTool[];
  timeoutMs: number;
  log: (s: string) => void;
}

/** `--tools` of the main bench, narrowed to the tools with a remote step. */
export function remoteToolsOf(tools: readonly string[]): RemoteTool[] {
  return REMOTE_TOOLS.filter((t) => tools.includes(t));
}

function command(projectRoot: string, tool: RemoteTool, step: StepName, repo: readonly string[], corpus: string, restoreDir: string): CommandSpec {
  const cmd = tool === 'restic' ? 'restic' : process.env['PYBACKUP_BENCH_BIN'] || join(projectRoot, 'bin', 'pybackup');
  if (step === 'init') return { cmd, args: [...repo, 'init'] };
  if (step === 'restore') return { cmd, args: [...repo, 'restore', '--quiet', 'latest', '--target', restoreDir] };
  if (step === 'check') return { cmd, args: [...repo, 'check', '--read-data', '--quiet'] };
  return { cmd, args: [...repo, 'backup', '--quiet', '--host', 'bench', corpus] };
}

function envFor(spec: RemoteBenchSpec<string>, server: RemoteServer, projectRoot: string, tool: RemoteTool, cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of spec.dropEnv ?? []) delete env[k];
  const own: NodeJS.ProcessEnv =
    tool === 'restic'
      ? { RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cache }
      : { PYBACKUP_PASSWORD: PASSWORD, XDG_CACHE_HOME: cache, NODE_COMPILE_CACHE: join(projectRoot, 'bench', 'work', 'node-compile-cache') };
  return { ...env, ...own, ...server.env?.(tool) };
}

async function warmCache(dir: string): Promise<void> {
  await new Promise<void>((res) => {
    const ch = spawn('sh', ['-c', 'find . -type f -print0 | xargs -0 cat > /dev/null'], { cwd: dir, stdio: 'ignore' });
    ch.on('exit', () => res());
    ch.on('error', () => res());
  });
}

/** Restores go to a tmpfs when it has room (see bench/run.ts), else to bench/work/<name>/restore. */
function restoreRoot(name: string, workDir: string, bytes: number): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.type === 0x01021994 && st.bavail * st.bsize > Math.max(bytes, 1 << 30) * 4) return `/dev/shm/pybackup-bench-${name}-restore`;
  } catch {
    // restore on disk
  }
  return join(workDir, name, 'restore');
}

const isBackup = (step: StepName): boolean => step === 'initial' || step === 'unchanged';

/**
 * Runs `rounds` rounds of the spec's steps for each tool against one server; the tool order alternates per round.
 * Each step is preceded by `sync` (backups also by a warm-up read of the corpus); a restore is verified against the
 * corpus digest. After a failed step the tool's remaining steps of that round are skipped.
 */
export async function runRemoteBench<K extends string>(spec: RemoteBenchSpec<K>, o: RemoteBenchOptions): Promise<RemoteBenchResults<K>> {
  const base = join(o.workDir, spec.name);
  const serverDir = join(base, spec.server);
  await removeTree(serverDir);
  await mkdir(serverDir, { recursive: true });
  await mkdir(o.logDir, { recursive: true });
  const server = await spec.start(serverDir, base);
  const serverVersion = await spec.serverVersion();
  const restic = (await runCapture('restic', ['version'])).stdout.trim();
  // The computed key K widens the literal's type; the shape is RemoteBenchResults<K>.
  const results = { rounds: o.rounds, tools: [...o.tools], [spec.server]: serverVersion, restic, steps: [], problems: [] } as unknown as RemoteBenchResults<K>;
  const rroot = restoreRoot(spec.name, o.workDir, o.corpus.manifest.total.bytes);
  o.log(`${spec.name}: ${server.describe}; repositories in ${server.reposDir}; restores in ${rroot}`);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? [...o.tools] : [...o.tools].reverse();
      for (const [i, tool] of order.entries()) {
        const repoDir = join(server.reposDir, tool);
        const cache = join(base, 'cache', tool);
        const restoreDir = join(rroot, tool);
        for (const d of [repoDir, cache, restoreDir]) await removeTree(d);
        await mkdir(dirname(repoDir), { recursive: true });
        await mkdir(cache, { recursive: true });
        let broken: string | undefined;
        for (const step of spec.steps) {
          const r: StepResult = { round, tool, position: i + 1, step, status: 'skipped' };
          results.steps.push(r);
          if (broken) {
            r.reason = broken;
            continue;
          }
          if (isBackup(step)) await warmCache(o.corpus.data);
          if (step === 'restore') await mkdir(restoreDir, { recursive: true });
          await runCapture('sync', []);
          const m = await runMeasured(command(o.projectRoot, tool, step, server.repoArgs(tool, repoDir), o.corpus.data, restoreDir), envFor(spec, server, o.projectRoot, tool, cache), {
            timeoutMs: o.timeoutMs,
            logBase: join(o.logDir, `${spec.name}-r${round}-${tool}-${step}`),
          });
          r.measurement = m;
          r.status = m.ok ? 'ok' : 'failed';
          if (m.ok && isBackup(step)) r.repo = await diskUsage(repoDir);
          if (m.ok && step === 'restore') {
            const d = diffDigests(o.corpus.baseline, await digestTree(join(restoreDir, o.corpus.data)));
            r.verify = { ok: d.length === 0, layout: '<target>/<corpus abs path>', details: d };
            if (d.length > 0) {
              r.status = 'failed';
              results.problems.push(`${REMOTE_LABEL[tool]} round ${round}: the tree restored over ${spec.name.toUpperCase()} differs: ${d.join('; ')}`);
            }
            await removeTree(restoreDir);
          }
          if (r.status !== 'ok') broken = `${step} failed`;
          const took = r.status === 'ok' ? `${m.wallSec.toFixed(2)} s` : failureText(r);
          o.log(`[${spec.name} round ${round}/${o.rounds}] ${REMOTE_LABEL[tool].padEnd(8)} ${step.padEnd(10)} ${took}`);
        }
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}
