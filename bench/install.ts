import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { aptInstall } from '../scripts/system-packages.ts';
import { TIME_BIN, runCapture } from './measure.ts';
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
    if (!aptInstall([...missingPkgs], log)) log('WARNING: package installation failed');
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
