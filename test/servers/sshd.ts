/**
 * A real OpenSSH server on 127.0.0.1 for tests and the bench: `/usr/sbin/sshd -D -e -f <temp config>` on a free
 * port, with a temp host key, a temp client key in a temp AuthorizedKeysFile, and internal-sftp. `stop()` kills it
 * and every per-connection child it forked (by pid); a process exit hook does the same if a test dies first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  /** Temp directory holding keys, config, log and (by convention) the test's repositories. */
  readonly dir: string;
  /** Private key the server accepts. */
  readonly clientKey: string;
  /** A known_hosts file holding the server's host key as `[127.0.0.1]:port`. */
  readonly knownHosts: string;
  /** The `ssh-ed25519 AAAA...` line of the host key. */
  readonly hostKeyLine: string;
  /** Environment that points PyBackup at the key and the known_hosts file (no agent). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `sftp:user@127.0.0.1:path`-style location in the URL form with the port. */
  location(path: string): string;
  /** Kills the per-connection children only: every open session drops, the server keeps listening. */
  dropConnections(): void;
  /** Kills the server and all its children (SIGKILL); `start()` brings it back on the same port and keys. */
  kill(): void;
  start(): Promise<void>;
  /** Replaces the host key with a new one (the known_hosts file keeps the old one); restarts the server. */
  rotateHostKey(): Promise<void>;
  readonly log: () => string;
  stop(): Promise<void>;
}

export async function startSshd(o: { dir?: string } = {}): Promise<Sshd> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'pyb-sshd-'));
  // sshd refuses to start without its privilege separation directory
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o644 });
  // sshd reads the AuthorizedKeysFile as the user logging in: let other users (nobody, in permission tests) reach it
  chmodSync(dir, 0o711);
  let port = 0;
  const user = userInfo().username;
  const config = join(dir, 'sshd_config');
  const writeConfig = (): void => writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'UseDNS no',
      'MaxStartups 100',
      'MaxSessions 50',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const knownHosts = join(dir, 'known_hosts');
  let hostKeyLine = '';
  const writeKnownHosts = (): void => {
    hostKeyLine = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
  };
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  const killTree = (signal: NodeJS.Signals, childrenOnly: boolean): void => {
    if (!child?.pid) return;
    for (const pid of descendants(child.pid)) tryKill(pid, signal);
    if (!childrenOnly) tryKill(child.pid, signal);
  };
  const onExit = (): void => killTree('SIGKILL', false);
  process.on('exit', onExit);

  const start = async (): Promise<void> => {
    const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`sshd exited (${code}) before accepting:\n${logs.join('')}`))));
    exited.catch(() => {});
    await Promise.race([waitForBanner(port, 10_000), exited]);
  };
  // another test may take the free port before sshd binds it: then try another one
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeConfig();
    writeKnownHosts();
    try {
      await start();
      break;
    } catch (e) {
      killTree('SIGKILL', false);
      if (attempt >= 3) {
        process.off('exit', onExit);
        throw e;
      }
    }
  }

  const server: Sshd = {
    host: '127.0.0.1',
    port,
    user,
    dir,
    clientKey,
    knownHosts,
    get hostKeyLine() {
      return hostKeyLine;
    },
    env: { PYBACKUP_SFTP_KEY: clientKey, PYBACKUP_SFTP_KNOWN_HOSTS: knownHosts, SSH_AUTH_SOCK: undefined },
    location: (path) => `sftp://${user}@127.0.0.1:${port}/${path}`,
    dropConnections: () => killTree('SIGKILL', true),
    kill: () => {
      killTree('SIGKILL', false);
      child = undefined;
    },
    start,
    rotateHostKey: async () => {
      server.kill();
      await waitClosed(port);
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      keygen(hostKey);
      const old = readFileSync(knownHosts, 'utf8');
      writeKnownHosts();
      writeFileSync(knownHosts, old);
      await start();
    },
    log: () => logs.join(''),
    stop: async () => {
      const c = child;
      killTree('SIGKILL', false);
      child = undefined;
      process.off('exit', onExit);
      if (c && c.exitCode === null && c.signalCode === null) await new Promise((r) => c.once('exit', r));
      if (!o.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pybackup-test', '-f', path], { stdio: 'ignore' });
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once the port answers with an SSH banner. */
async function waitForBanner(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.setTimeout(1000);
      sock.once('data', (b) => {
        sock.destroy();
        resolve(b.toString('latin1').startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not accept connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitClosed(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every process whose parent chain leads to `pid` (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const want = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parent) {
      if (!want.has(p) && want.has(pp)) {
        want.add(p);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
