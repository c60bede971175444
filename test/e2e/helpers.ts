/**
 * Shared helpers for the end-to-end tests: sandboxes (temp dirs + repository + catalog), running the real CLI
 * (bin/pybackup) and capturing its output and exit code, random data, and a byte-exact tree comparison.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  type BigIntStats,
  chmodSync,
  chownSync,
  closeSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { LocalBackend } from '../../src/backend/local/local-backend.ts';
import { Repository } from '../../src/repository/repository.ts';
import { sha256File } from './tree-compare.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'pybackup');
export const PASSWORD = 'correct horse battery staple';
/** uid/gid of "nobody", used for privilege-dropped runs. */
export const NOBODY = 65534;
export const IS_ROOT = process.getuid?.() === 0;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBuf: Buffer;
}

export interface RunOptions {
  /** merged over a minimal environment (PATH, HOME); a value of undefined removes the variable */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly input?: string | Buffer;
  readonly cwd?: string;
  /** run as uid/gid 65534 through setpriv */
  readonly asNobody?: boolean;
  readonly timeoutMs?: number;
}

function baseEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', TZ: process.env.TZ ?? 'UTC' };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the CLI; the caller owns the child process. */
export function spawnCli(args: readonly string[], o: RunOptions = {}): ChildProcess {
  const [cmd, argv] = o.asNobody ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', BIN, ...args]] : [BIN, [...args]];
  return spawn(cmd, argv, { cwd: o.cwd ?? ROOT, env: baseEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Collects a started CLI's output; resolves when it exits (kills it after the timeout). Ends stdin unless told not to. */
export function collect(child: ChildProcess, o: { input?: string | Buffer; timeoutMs?: number; keepStdinOpen?: boolean } = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdin?.on('error', () => {});
  if (o.input !== undefined) child.stdin?.end(o.input);
  else if (!o.keepStdinOpen) child.stdin?.end();
  return new Promise((res, rej) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 180_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuf = Buffer.concat(out);
      res({ code, signal, stdout: stdoutBuf.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBuf });
    });
  });
}

export async function runCli(args: readonly string[], o: RunOptions = {}): Promise<CliResult> {
  return await collect(spawnCli(args, o), { ...(o.input !== undefined ? { input: o.input } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
}

/** A line that looks like a JavaScript stack frame, or the CLI's internal-error marker. */
export function assertNoStackTrace(r: CliResult, what = 'output'): void {
  const all = `${r.stdout}\n${r.stderr}`;
  assert.doesNotMatch(all, /^\s+at .*(:\d+:\d+\)?|\(native\)|<anonymous>)$/m, `${what} contains a stack trace:\n${all}`);
  assert.doesNotMatch(all, /internal error/i, `${what} reports an internal error:\n${all}`);
}

export function describe(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout.slice(0, 4000)}\n--- stderr ---\n${r.stderr.slice(0, 4000)}`;
}

export function assertExit(r: CliResult, code: number, what = 'command'): void {
  assert.equal(r.code, code, `${what}: expected exit ${code}, got ${describe(r)}`);
}

/** NDJSON lines of a --json run (non-JSON lines are ignored). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      out.push(JSON.parse(s) as Record<string, unknown>);
    } catch {
      // not JSON
    }
  }
  return out;
}

export interface BackupSummary {
  readonly message_type: 'summary';
  readonly files_new: number;
  readonly files_changed: number;
  readonly files_unmodified: number;
  readonly dirs_new: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  readonly data_added: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
  readonly error_count: number;
  readonly dry_run: boolean;
  readonly snapshot_id?: string;
}

export function summaryOf(r: CliResult): BackupSummary {
  const s = jsonLines(r.stdout).filter((l) => l.message_type === 'summary');
  assert.equal(s.length, 1, `expected one summary line, got ${describe(r)}`);
  return s[0] as unknown as BackupSummary;
}

/** A temp directory with a repository location, a catalog directory and a source directory. */
export class Sandbox {
  readonly dir: string;
  readonly repo: string;
  readonly cache: string;
  readonly src: string;
  readonly #forNobody: boolean;

  private constructor(dir: string, forNobody: boolean) {
    this.dir = dir;
    this.repo = join(dir, 'repo');
    this.cache = join(dir, 'cache');
    this.src = join(dir, 'src');
    this.#forNobody = forNobody;
  }

  /**
   * Makes the sandbox, registers its removal with `t.after`, and (unless `init: false`) initializes the repository.
   * `forNobody`: the sandbox dir is 0777 and the repository/catalog/source are handed to uid 65534.
   */
  static async create(t: TestContext, o: { init?: boolean; forNobody?: boolean; initArgs?: readonly string[] } = {}): Promise<Sandbox> {
    const dir = mkdtempSync(join(tmpdir(), 'pybackup-e2e-'));
    const sb = new Sandbox(dir, !!o.forNobody);
    t.after(() => sb.cleanup());
    if (o.forNobody) chmodSync(dir, 0o777);
    if (o.init !== false) {
      const r = await sb.cli(['init', '--kdf-memory', '8192', ...(o.initArgs ?? [])], { asRoot: true });
      assertExit(r, 0, 'init');
      if (o.forNobody) sb.giveToNobody(sb.repo, sb.cache);
    }
    return sb;
  }

  get env(): Record<string, string> {
    return { PYBACKUP_PASSWORD: PASSWORD, PYBACKUP_CACHE_DIR: this.cache };
  }

  /** Runs the CLI with `-r repo` and this sandbox's password and catalog (as nobody for a `forNobody` sandbox). */
  async cli(args: readonly string[], o: RunOptions & { asRoot?: boolean; repo?: string } = {}): Promise<CliResult> {
    return await runCli(['-r', o.repo ?? this.repo, ...args], {
      ...o,
      env: { ...this.env, ...o.env },
      asNobody: o.asNobody ?? (this.#forNobody && !o.asRoot),
    });
  }

  spawn(args: readonly string[], o: RunOptions = {}): ChildProcess {
    return spawnCli(['-r', this.repo, ...args], { ...o, env: { ...this.env, ...o.env } });
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** chown -R to 65534 */
  giveToNobody(...paths: string[]): void {
    for (const p of paths) chownTree(Buffer.from(p), NOBODY, NOBODY);
  }

  /** Backs up with --json and returns the summary (asserting the exit code). */
  async backup(args: readonly string[], o: RunOptions & { expect?: number } = {}): Promise<BackupSummary> {
    const r = await this.cli(['--json', 'backup', ...args], o);
    assertExit(r, o.expect ?? 0, `backup ${args.join(' ')}`);
    return summaryOf(r);
  }

  /** Opens the repository in the test process (own catalog, so it never shares the CLI's). Close it when done. */
  async open(): Promise<Repository> {
    return await Repository.open(new LocalBackend(this.repo), PASSWORD, { catalogPath: join(this.dir, 'test-catalog', `${process.pid}-${++this.#opened}.db`) });
  }

  #opened = 0;

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function chownTree(p: Buffer, uid: number, gid: number): void {
  let st: BigIntStats | undefined;
  try {
    st = lstatSync(p, { bigint: true });
  } catch {
    return;
  }
  if (st.isDirectory()) for (const n of readdirSync(p, { encoding: 'buffer' })) chownTree(Buffer.concat([p, Buffer.from('/'), n]), uid, gid);
  if (!st.isSymbolicLink()) chownSync(p, uid, gid);
}

/** Writes `size` random bytes to `path` (created/truncated). */
export function writeRandomFile(path: string | Buffer, size: number): void {
  const fd = openSync(path, 'w');
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, 4 << 20));
    let left = size;
    while (left > 0) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      let p = 0;
      while (p < n) p += writeSync(fd, buf, p, n - p);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Every file under `dir` (relative path -> content hash), for "nothing changed" checks. */
export function listFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else out.set(r, st.isFile() ? sha256File(p) : `special:${st.mode}`);
    }
  };
  walk(dir, '');
  return out;
}

/** Where restic-style restore puts an absolute source path under a target. */
export function restoredPath(target: string, absSource: string): string {
  return join(target, absSource);
}

export * from './tree-compare.ts';

/** Flips the lowest bit of the byte at `at` in `file`, in place. */
export function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = (b[0] ?? 0) ^ 0x01;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}
