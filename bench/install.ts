import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { TIME_BIN, runCapture, runInherit } from './measure.ts';
import type { Tool } from './tools.ts';

async function isExecutable(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function haveCommand(cmd: string): Promise<boolean> {
  if (cmd.includes('/')) return await isExecutable(cmd);
  const r = await runCapture('sh', ['-c', 'command -v "$1"', 'sh', cmd]);
  return r.code === 0;
}

async function aptInstall(pkgs: string[], log: (s: string) => void): Promise<boolean> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['sudo'] : [];
  const run = async (args: string[]): Promise<boolean> => {
    const [cmd, ...rest] = [...sudo, ...args];
    log(`$ ${[cmd, ...rest].join(' ')}`);
    return (await runInherit(cmd ?? 'apt-get', rest, env)) === 0;
  };
  if (await run(['apt-get', 'install', '-y', ...pkgs])) return true;
  log('apt-get install failed; running apt-get update and retrying');
  if (!(await run(['apt-get', 'update']))) return false;
  return await run(['apt-get', 'install', '-y', ...pkgs]);
}

/**
 * Makes sure GNU time and the selected tools are present, installing missing Debian packages.
 * Returns the tools that are usable, with a reason for each one that is not.
 */
export async function ensureDependencies(tools: Tool[], log: (s: string) => void): Promise<{ usable: Tool[]; missing: Map<string, string> }> {
  const missingPkgs = new Set<string>();
  if (!(await isExecutable(TIME_BIN))) missingPkgs.add('time');
  for (const t of tools) if (!(await haveCommand(t.binary)) && t.aptPackage) missingPkgs.add(t.aptPackage);
  if (missingPkgs.size > 0) {
    log(`installing missing packages: ${[...missingPkgs].join(' ')}`);
    if (!(await aptInstall([...missingPkgs], log))) log('WARNING: package installation failed');
  }
  if (!(await isExecutable(TIME_BIN))) throw new Error(`${TIME_BIN} (Debian package "time") is required and could not be installed`);
  const usable: Tool[] = [];
  const missing = new Map<string, string>();
  for (const t of tools) {
    if (await haveCommand(t.binary)) usable.push(t);
    else missing.set(t.name, `${t.binary} not found${t.aptPackage ? ` (apt package ${t.aptPackage} could not be installed)` : ''}`);
  }
  return { usable, missing };
}
