import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { runCapture } from './measure.ts';
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
  };
}

export async function toolVersion(tool: Tool, paths: ToolPaths): Promise<string> {
  const r = await runCapture(tool.version.cmd, tool.version.args, { env: { ...process.env, ...tool.env(paths) }, timeoutMs: 60_000 });
  const line = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  if (r.code !== 0) return `unknown (\`${tool.version.args.join(' ')}\` failed: ${r.error ?? `exit ${r.code}`}${line ? `: ${line.slice(0, 120)}` : ''})`;
  return line;
}
