/**
 * Debian packages the project needs beyond npm (test servers and clients: OpenSSH's sshd for SFTP, rclone for
 * REST/rclone backends and the FUSE mount, fuse3, Chromium for the web UI, btrfs-progs for the btrfs recipe test,
 * qemu/busybox-static/lvm2 for the LVM recipe test; restic/borg/time for the benchmark).
 * Installs what is missing with apt-get (an update first only when the plain install fails), as root or via sudo.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface SystemTool {
  /** a command name looked up on PATH, or an absolute path */
  readonly command: string;
  readonly aptPackage: string;
}

/** What `npm test` needs: every real component the tests start. */
export const TEST_TOOLS: readonly SystemTool[] = [
  { command: '/usr/sbin/sshd', aptPackage: 'openssh-server' },
  { command: 'ssh-keygen', aptPackage: 'openssh-client' },
  { command: 'rclone', aptPackage: 'rclone' },
  { command: 'fusermount3', aptPackage: 'fuse3' },
  { command: 'chromium', aptPackage: 'chromium' },
  { command: 'mkfs.btrfs', aptPackage: 'btrfs-progs' },
  // the LVM recipe test boots a VM (test/e2e/vm-run.ts) whose root is this machine's /: qemu, a static busybox for its
  // initramfs, and the LVM and ext4 tools the recipe runs inside it (the kernel is fetched by test/e2e/vm-kernel.ts)
  { command: 'qemu-system-x86_64', aptPackage: 'qemu-system-x86' },
  { command: '/bin/busybox', aptPackage: 'busybox-static' },
  { command: '/sbin/lvcreate', aptPackage: 'lvm2' },
  { command: '/sbin/mkfs.ext4', aptPackage: 'e2fsprogs' },
];

export function haveCommand(cmd: string): boolean {
  if (cmd.includes('/')) {
    try {
      accessSync(cmd, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

/** apt-get install -y PKGS; on failure apt-get update once and retry. Returns whether it succeeded. */
export function aptInstall(pkgs: readonly string[], log: (s: string) => void): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['sudo'] : [];
  const run = (args: string[]): boolean => {
    const [cmd, ...rest] = [...sudo, ...args];
    log(`$ ${[cmd, ...rest].join(' ')}`);
    return spawnSync(cmd ?? 'apt-get', rest, { env, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
  };
  if (run(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs])) return true;
  log('apt-get install failed; running apt-get update and retrying');
  if (!run(['apt-get', 'update'])) return false;
  return run(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs]);
}

/** Installs the packages of the missing tools; returns the tools still missing afterwards. */
export function ensureSystemTools(tools: readonly SystemTool[], log: (s: string) => void): SystemTool[] {
  const missing = tools.filter((t) => !haveCommand(t.command));
  if (missing.length === 0) return [];
  const pkgs = [...new Set(missing.map((t) => t.aptPackage))];
  log(`installing missing system packages: ${pkgs.join(' ')}`);
  if (!aptInstall(pkgs, log)) log('WARNING: package installation failed');
  return tools.filter((t) => !haveCommand(t.command));
}
