import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { runCapture, summarizeOutput } from './measure.ts';
import type { Tool, ToolPaths } from './tools.ts';

export interface MachineInfo {
  cpuModel: string;
  /** `nproc` (CPUs available to this process). */
  nproc: number;
  logicalCpus: number;
  memBytes: number;
  kernel: string;
  node: string;
  /** File system type of the bench work directory (repositories, restores). */
  workFs: string;
  corpusFs: string;
  /** 1-minute load average when the run started (other load on the machine skews timings). */
  loadAvgStart: number;
  loadAvgEnd: number | null;
}

async function fsType(dir: string): Promise<string> {
  const r = await runCapture('stat', ['-f', '-c', '%T', dir]);
  return r.code === 0 ? r.stdout.trim() : 'unknown';
}

export async function machineInfo(workDir: string, corpusDir: string): Promise<MachineInfo> {
  const n = await runCapture('nproc', []);
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    nproc: n.code === 0 ? Number(n.stdout.trim()) : availableParallelism(),
    logicalCpus: cpus().length,
    memBytes: totalmem(),
    kernel: release(),
    node: process.version,
    workFs: await fsType(workDir),
    corpusFs: await fsType(corpusDir),
    loadAvgStart: loadavg()[0] ?? 0,
    loadAvgEnd: null,
  };
}

export async function toolVersion(tool: Tool, paths: ToolPaths): Promise<string> {
  const r = await runCapture(tool.version.cmd, tool.version.args, { env: { ...process.env, ...tool.env(paths) }, timeoutMs: 60_000 });
  if (r.code !== 0) {
    const why = summarizeOutput(`${r.stdout}\n${r.stderr}`, 1, 160);
    return `unknown (\`${tool.version.args.join(' ')}\` failed: ${r.error ?? `exit ${r.code}`}${why ? `: ${why}` : ''})`;
  }
  return `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}
