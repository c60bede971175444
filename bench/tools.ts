import { join } from 'node:path';
import type { CommandSpec } from './measure.ts';

export const TOOL_NAMES = ['pybackup', 'restic', 'borg'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export function isToolName(s: string): s is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(s);
}

/** Where one tool keeps its state during a round. All of it is deleted before the tool's next fresh repository. */
export interface ToolPaths {
  repo: string;
  /** Cache/config root for this tool (pybackup's XDG_CACHE_HOME, RESTIC_CACHE_DIR, BORG_BASE_DIR). */
  cache: string;
  restore: string;
}

export interface Tool {
  name: ToolName;
  label: string;
  /** Executable looked up before the run; null = always present (the project's own CLI). */
  binary: string;
  /** Debian package providing `binary`, if installable. */
  aptPackage: string | null;
  /** Settings worth stating in the report. */
  notes: string;
  env(p: ToolPaths): Record<string, string>;
  init(p: ToolPaths): CommandSpec;
  /** `seq` numbers backups within a round (1 = initial); borg needs archive names. */
  backup(p: ToolPaths, corpus: string, seq: number): CommandSpec;
  /** Restores the latest backup (`seq`) into `p.restore`, which exists and is empty. */
  restore(p: ToolPaths, seq: number): CommandSpec;
  /** Verifies the whole repository, reading and authenticating all data. */
  check(p: ToolPaths): CommandSpec;
  version: CommandSpec;
}

/** The password of every benchmark repository (not a secret). */
export const PASSWORD = 'bench-password-not-secret';

export function toolPaths(workDir: string, name: ToolName, restoreRoot = join(workDir, 'restore')): ToolPaths {
  return { repo: join(workDir, 'repos', name), cache: join(workDir, 'cache', name), restore: join(restoreRoot, name) };
}

export function makeTools(projectRoot: string): Record<ToolName, Tool> {
  // PYBACKUP_BENCH_BIN lets you benchmark another build (or a wrapper) instead of this checkout's bin/pybackup.
  const pyb = process.env['PYBACKUP_BENCH_BIN'] || join(projectRoot, 'bin', 'pybackup');
  return {
    pybackup: {
      name: 'pybackup',
      label: 'PyBackup',
      binary: pyb,
      aptPackage: null,
      notes:
        'bin/pybackup with --quiet; cache in XDG_CACHE_HOME=bench/work/cache/pybackup (fresh per round); Node compile cache kept across rounds in bench/work/node-compile-cache, as on any machine after the first run',
      env: (p) => ({ PYBACKUP_PASSWORD: PASSWORD, XDG_CACHE_HOME: p.cache, NODE_COMPILE_CACHE: join(projectRoot, 'bench', 'work', 'node-compile-cache') }),
      init: (p) => ({ cmd: pyb, args: ['-r', p.repo, 'init'] }),
      backup: (p, corpus) => ({ cmd: pyb, args: ['-r', p.repo, 'backup', '--quiet', '--host', 'bench', corpus] }),
      restore: (p) => ({ cmd: pyb, args: ['-r', p.repo, 'restore', '--quiet', 'latest', '--target', p.restore] }),
      check: (p) => ({ cmd: pyb, args: ['-r', p.repo, 'check', '--read-data', '--quiet'] }),
      version: { cmd: pyb, args: ['--version'] },
    },
    restic: {
      name: 'restic',
      label: 'restic',
      binary: 'restic',
      aptPackage: 'restic',
      notes: 'default settings (repository format and compression as `restic init` picks them; v2 + auto/zstd since 0.14), --quiet; RESTIC_CACHE_DIR=bench/work/cache/restic',
      env: (p) => ({ RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: p.cache }),
      init: (p) => ({ cmd: 'restic', args: ['-r', p.repo, 'init'] }),
      backup: (p, corpus) => ({ cmd: 'restic', args: ['-r', p.repo, 'backup', '--quiet', '--host', 'bench', corpus] }),
      restore: (p) => ({ cmd: 'restic', args: ['-r', p.repo, 'restore', '--quiet', 'latest', '--target', p.restore] }),
      check: (p) => ({ cmd: 'restic', args: ['-r', p.repo, 'check', '--read-data', '--quiet'] }),
      version: { cmd: 'restic', args: ['version'] },
    },
    borg: {
      name: 'borg',
      label: 'borg',
      binary: 'borg',
      aptPackage: 'borgbackup',
      notes: '`init -e repokey`, default compression (lz4), no --progress/--stats; BORG_BASE_DIR=bench/work/cache/borg',
      env: (p) => ({
        BORG_PASSPHRASE: PASSWORD,
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
        BORG_BASE_DIR: p.cache,
      }),
      init: (p) => ({ cmd: 'borg', args: ['init', '-e', 'repokey', p.repo] }),
      backup: (p, corpus, seq) => ({ cmd: 'borg', args: ['create', `${p.repo}::bench-${seq}`, corpus] }),
      restore: (p, seq) => ({ cmd: 'borg', args: ['extract', `${p.repo}::bench-${seq}`], cwd: p.restore }),
      check: (p) => ({ cmd: 'borg', args: ['check', '--verify-data', p.repo] }),
      version: { cmd: 'borg', args: ['--version'] },
    },
  };
}
