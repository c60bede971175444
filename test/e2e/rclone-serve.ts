/**
 * A real restic REST server for tests and the bench: `rclone serve restic --addr 127.0.0.1:0 DIR`, on a port rclone
 * picks (read back from its log), stopped by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';

export interface RcloneServe {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything rclone wrote to stderr so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
  /** SIGKILL at once (a server dying mid-operation). */
  kill(): Promise<void>;
}

export interface ServeOptions {
  readonly appendOnly?: boolean;
  readonly user?: string;
  readonly pass?: string;
  readonly extraArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export async function startRcloneServe(dir: string, o: ServeOptions = {}): Promise<RcloneServe> {
  const args = ['serve', 'restic', '--addr', '127.0.0.1:0', ...(o.appendOnly ? ['--append-only'] : []), ...(o.extraArgs ?? [])];
  if (o.user !== undefined) args.push('--user', o.user);
  if (o.pass !== undefined) args.push('--pass', o.pass);
  args.push(dir);
  const child = spawn('rclone', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RCLONE_CONFIG: '/dev/null', ...o.env } });
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rclone serve restic did not start within 15 s:\n${err}`)), 15_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rclone serve restic exited (${code}):\n${err}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      err += s;
      const m = /Serving restic REST API on (https?:\/\/[^\s/]+\/)/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const port = Number(new URL(url).port);
  await waitAnswering(port);
  const stopWith = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { url, port, pid: child.pid ?? 0, child, log: () => err, stop: () => stopWith('SIGTERM'), kill: () => stopWith('SIGKILL') };
}

/** Resolves once the server answers an HTTP request (any status). */
async function waitAnswering(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'HEAD', path: '/config', agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.once('error', () => resolve(false));
      req.end();
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`rclone serve restic on port ${port} does not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
