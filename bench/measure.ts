import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';

export const TIME_BIN = '/usr/bin/time';

export interface CommandSpec {
  cmd: string;
  args: string[];
  cwd?: string;
}

export interface Measurement {
  ok: boolean;
  exitCode: number | null;
  /** Set when the command was killed by a signal. */
  signal: string | null;
  timedOut: boolean;
  /** Wall time measured by the harness around the process (high resolution). */
  wallSec: number;
  /** GNU time's %e, %M (KiB), %U, %S; null if unavailable. */
  timeWallSec: number | null;
  maxRssKb: number | null;
  userSec: number | null;
  sysSec: number | null;
  /** Last lines of stderr (or stdout when stderr is empty); for failure rows. */
  tail: string;
  logBase: string;
  command: string;
}

/** Process group of the measured command currently running, so an interrupted harness can stop it. */
let activePgid: number | null = null;

/** Kills the process group of the running measured command (the harness's own child), if any. */
export function killActive(): void {
  if (activePgid === null) return;
  try {
    process.kill(-activePgid, 'SIGKILL');
  } catch {
    // already gone
  }
  activePgid = null;
}

export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

const NOISE = [/^at /, /^[{}()[\]]+$/, /^\^+$/, /^Node\.js v\d/, /^node:internal\//, /^(code|url|errno|syscall|path|dest|requireStack): /, /^throw /];

/**
 * A one-line summary of a command's output for failure rows: the first error-looking line (e.g. a Node "Error [...]: msg"
 * hidden above a stack trace) followed by the last few meaningful lines, without stack frames.
 */
export function summarizeOutput(text: string, maxLines = 4, maxChars = 500): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !NOISE.some((re) => re.test(l)));
  const err = lines.find((l) => /(^|\s|\])(error|fatal|panic)\b|Error\b|ERR_/i.test(l));
  const picked = lines.slice(-maxLines);
  if (err !== undefined && !picked.includes(err)) picked.unshift(err);
  const t = picked.join(' | ');
  return t.length > maxChars ? `${t.slice(0, maxChars)}…` : t;
}

async function tailOf(path: string): Promise<string> {
  return summarizeOutput(await readFile(path, 'utf8').catch(() => ''));
}

/**
 * Runs `spec` under `/usr/bin/time -f '%e %M %U %S' -o FILE`, with stdout/stderr going to `logBase.out/.err`
 * (files, so the harness adds no pipe overhead). The process runs in its own process group, which is killed on timeout.
 */
export async function runMeasured(spec: CommandSpec, env: NodeJS.ProcessEnv, o: { timeoutMs: number; logBase: string }): Promise<Measurement> {
  const timeFile = `${o.logBase}.time`;
  await rm(timeFile, { force: true });
  const out = openSync(`${o.logBase}.out`, 'w');
  const err = openSync(`${o.logBase}.err`, 'w');
  const command = shellQuote([spec.cmd, ...spec.args]);
  let timedOut = false;
  const t0 = performance.now();
  const res = await new Promise<{ code: number | null; signal: string | null; spawnError?: string }>((resolve) => {
    const child = spawn(TIME_BIN, ['-f', '%e %M %U %S', '-o', timeFile, spec.cmd, ...spec.args], {
      cwd: spec.cwd,
      env,
      stdio: ['ignore', out, err],
      detached: true,
    });
    activePgid = child.pid ?? null;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, o.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, spawnError: String(e) });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      activePgid = null;
      resolve({ code, signal });
    });
  });
  const wallSec = (performance.now() - t0) / 1000;
  closeSync(out);
  closeSync(err);

  let timeWallSec: number | null = null;
  let maxRssKb: number | null = null;
  let userSec: number | null = null;
  let sysSec: number | null = null;
  let signal = res.signal;
  const tf = await readFile(timeFile, 'utf8').catch(() => '');
  for (const line of tf.split('\n')) {
    const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(line.trim());
    if (m) {
      timeWallSec = Number(m[1]);
      maxRssKb = Number(m[2]);
      userSec = Number(m[3]);
      sysSec = Number(m[4]);
    }
    const sig = /Command terminated by signal (\d+)/.exec(line);
    if (sig) signal = `signal ${sig[1]}`;
  }
  let tail = (await tailOf(`${o.logBase}.err`)) || (await tailOf(`${o.logBase}.out`));
  if (res.spawnError) tail = `could not start ${TIME_BIN}: ${res.spawnError}`;
  if (timedOut) tail = `timed out after ${Math.round(o.timeoutMs / 1000)} s; ${tail}`;
  const ok = !timedOut && res.code === 0 && !res.spawnError;
  return { ok, exitCode: res.code, signal, timedOut, wallSec, timeWallSec, maxRssKb, userSec, sysSec, tail, logBase: o.logBase, command };
}

/** Runs a short helper command and captures its output (not measured). */
export async function runCapture(
  cmd: string,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return await new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error: String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command with inherited stdio (installers); resolves to its exit code. */
export async function runInherit(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  return await new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
}
