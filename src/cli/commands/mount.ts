import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { PyBackupError, UsageError } from '../../errors.ts';
import { type Context, repoLocation } from '../context.ts';
import { isLoopback, parseListen, requestReporter, untilInterrupted, withWebdav } from './webdav-session.ts';

interface Flags {
  listen: string;
  verbose?: boolean;
  bufferSize: string;
}

const findExe = (name: string): string | undefined =>
  (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d, name)).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** What a mount needs on this machine, checked before the repository is opened; throws a clear error naming the fix. */
export function checkMountPrerequisites(dir: string, repoLocation: string): { rclone: string; fusermount: string; dir: string } {
  if (process.platform !== 'linux') throw new UsageError('mount works on Linux only; use `pybackup serve webdav` and your system\'s WebDAV client elsewhere');
  let real: string;
  try {
    real = realpathSync(dir);
    if (!statSync(real).isDirectory()) throw new UsageError(`${dir} is not a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`mount point ${dir} does not exist: create an empty directory first`);
  }
  refuseRepositoryOverlap(repoLocation, real);
  if (isMounted(real)) throw new UsageError(`${dir} is already a mount point`);
  if (readdirSync(real).length > 0) throw new UsageError(`${dir} is not empty: mount over an empty directory`);
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    throw new UsageError('/dev/fuse is missing or not accessible: load the fuse module (modprobe fuse), or in a container pass --device /dev/fuse --cap-add SYS_ADMIN');
  }
  const fusermount = findExe('fusermount3') ?? findExe('fusermount');
  if (!fusermount) throw new UsageError('fusermount3 not found: install the Debian/Ubuntu package fuse3 (apt-get install fuse3)');
  const rclone = findExe('rclone');
  if (!rclone) throw new UsageError('rclone not found: install the Debian/Ubuntu package rclone (apt-get install rclone); mount runs `rclone mount` against the WebDAV server');
  return { rclone, fusermount, dir: real };
}

/** Whether `dir` (a real path) is a mount point, from /proc/self/mountinfo (field 5, octal escapes). */
export function isMounted(dir: string): boolean {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  return info.split('\n').some((l) => unescapeMount(l.split(' ')[4] ?? '') === dir);
}

/**
 * A local repository inside the mount point (or the other way round) would make the server read its own files
 * through the mount it serves, which deadlocks the kernel: refused, as restic refuses it.
 */
export function refuseRepositoryOverlap(location: string, mountDir: string): void {
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(location);
  if (m && m[1]?.toLowerCase() !== 'local') return;
  const raw = m ? (m[2] ?? '') : location;
  if (raw === '') return;
  let repo = resolve(raw);
  try {
    repo = realpathSync(repo);
  } catch {
    // not there (yet): compare the plain absolute path
  }
  const inside = (a: string, b: string): boolean => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
  if (inside(repo, mountDir) || inside(mountDir, repo)) throw new UsageError(`the mount point ${mountDir} and the repository ${repo} overlap; mounting there would deadlock: choose a directory outside the repository`);
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** `stoppedCleanly`: Ctrl-C after a successful mount unmounts and exits 0, as restic's mount does. */
export function registerMount(program: Command, ctx: () => Context, stoppedCleanly: () => void): void {
  program
    .command('mount')
    .description('mount every snapshot read-only at DIR (FUSE through rclone and a local WebDAV server) until Ctrl-C')
    .argument('<dir>', 'an empty directory')
    .option('--listen <host:port>', 'address of the internal WebDAV server', '127.0.0.1:0')
    .option('--buffer-size <size>', 'rclone read buffer per open file', '32M')
    .option('-v, --verbose', 'print each WebDAV request rclone makes')
    .action(async (dirArg: string, f: Flags) => {
      const c = ctx();
      const listen = parseListen(f.listen);
      if (!/^\d+[KMG]?$/i.test(f.bufferSize)) throw new UsageError(`invalid --buffer-size ${JSON.stringify(f.bufferSize)}: e.g. 16M`);
      const pre = checkMountPrerequisites(dirArg, repoLocation(c));
      if (!isLoopback(listen.host)) c.out.warn(`warning: the mount's WebDAV server listens on ${listen.host}: anyone who can reach it can read every snapshot`);
      await withWebdav(c, listen, requestReporter(c, !!f.verbose), async (s) => {
        const url = `http://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
        const args = ['mount', ':webdav:', pre.dir, '--webdav-url', url, '--webdav-vendor', 'other', '--read-only', '--vfs-cache-mode', 'off', '--dir-cache-time', '5s', '--buffer-size', f.bufferSize, '--no-modtime', '--log-level', 'ERROR'];
        // its own process group: a terminal's Ctrl-C reaches us only, and we unmount in order
        const child = spawn(pre.rclone, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        let stderr = '';
        child.stderr?.on('data', (b: Buffer) => {
          stderr = (stderr + b.toString('utf8')).slice(-8192);
        });
        const exited = new Promise<number | null>((resolve) => {
          child.on('exit', (code) => resolve(code));
          child.on('error', () => resolve(-1));
        });
        try {
          await waitMounted(pre.dir, exited, () => stderr, c.signal);
          if (c.out.json) c.out.line({ message_type: 'mounted', dir: pre.dir, url: s.url });
          else c.out.data(`mounted at ${dirArg}; Ctrl-C to unmount`);
          const early = await Promise.race([untilInterrupted(c.signal).then(() => undefined), exited.then((code) => ({ code }))]);
          if (early) throw new PyBackupError('IO', `rclone exited (code ${early.code}) and the mount at ${dirArg} is gone${lastLine(stderr)}`);
          stoppedCleanly();
        } finally {
          await unmount(pre.fusermount, pre.dir, child, exited);
        }
        if (!c.out.json) c.out.info(`unmounted ${dirArg}`);
      });
    });
}

const lastLine = (s: string): string => {
  const l = s.trim().split('\n').pop();
  return l ? `: ${l.replace(/^\S+ \S+ /, '')}` : '';
};

async function waitMounted(dir: string, exited: Promise<number | null>, stderr: () => string, signal: AbortSignal): Promise<void> {
  let done: number | null | undefined;
  void exited.then((code) => {
    done = code;
  });
  const deadline = Date.now() + 30_000;
  while (!isMounted(dir)) {
    if (done !== undefined) throw new PyBackupError('IO', `rclone mount failed (exit ${done})${lastLine(stderr())}`);
    if (signal.aborted) return;
    if (Date.now() > deadline) throw new PyBackupError('IO', `the mount at ${dir} did not come up within 30 s${lastLine(stderr())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** fusermount3 -u (lazy if busy); then rclone ends by itself; SIGTERM/SIGKILL it if not. */
async function unmount(fusermount: string, dir: string, child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (isMounted(dir)) {
    const r = spawnSync(fusermount, ['-u', dir], { stdio: 'ignore' });
    if (r.status !== 0) spawnSync(fusermount, ['-u', '-z', dir], { stdio: 'ignore' });
  }
  const wait = (ms: number): Promise<boolean> => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  if (child.exitCode === null && child.signalCode === null && !(await wait(3000))) {
    child.kill('SIGTERM');
    if (!(await wait(3000))) child.kill('SIGKILL');
    await exited;
  }
}
