import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { PermanentError } from '../backend.ts';

export interface RcloneCommand {
  /** The rclone executable (default "rclone", looked up on PATH). */
  readonly program: string;
  /** Arguments before the remote, e.g. ["serve", "restic", "--stdio"]. */
  readonly args: readonly string[];
  /** rclone's REMOTE:path. */
  readonly remote: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Children still running, stopped when this process exits however it exits (short of SIGKILL: then stdin closes). */
const live = new Set<ChildProcess>();
let exitHook = false;

function trackChild(c: ChildProcess): void {
  live.add(c);
  c.once('exit', () => live.delete(c));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGTERM');
  });
}

/**
 * One `rclone serve restic --stdio REMOTE:path` child: its stdin/stdout carry the HTTP/2 connection, its stderr is
 * kept (the last lines) to explain a failure.
 */
export class RcloneProcess {
  readonly #child: ChildProcess;
  readonly #cmd: RcloneCommand;
  readonly #stderr: string[] = [];
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #stopping = false;

  private constructor(child: ChildProcess, cmd: RcloneCommand) {
    this.#child = child;
    this.#cmd = cmd;
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.#note(l);
    });
    child.stderr?.on('end', () => partial && this.#note(partial));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  /** Starts rclone; rejects with PermanentError when it cannot be started (not installed, not executable). */
  static async start(cmd: RcloneCommand): Promise<RcloneProcess> {
    // Its own process group (as restic does): a Ctrl-C in the terminal must not kill rclone before this process has
    // finished cleanly through it (removed its lock, closed the repository).
    const child = spawn(cmd.program, [...cmd.args, cmd.remote], { stdio: ['pipe', 'pipe', 'pipe'], env: cmd.env ?? process.env, detached: true });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e: NodeJS.ErrnoException) => {
        reject(
          e.code === 'ENOENT'
            ? new PermanentError(`rclone is not installed (no "${cmd.program}" on the PATH): install rclone (https://rclone.org/install/, or apt-get install rclone) to use rclone: repositories`, { cause: e })
            : new PermanentError(`cannot start ${cmd.program}: ${e.message}`, { cause: e }),
        );
      });
    });
    child.on('error', () => {}); // later errors (EPIPE on its stdin) surface through the connection
    child.stdin?.on('error', () => {});
    trackChild(child);
    return new RcloneProcess(child, cmd);
  }

  #note(line: string): void {
    const l = line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim();
    if (!l || /NOTICE: Config file .* not found - using defaults/.test(l)) return;
    this.#stderr.push(l);
    if (this.#stderr.length > 20) this.#stderr.shift();
  }

  /** The HTTP/2 connection: writes go to rclone's stdin, reads come from its stdout. */
  duplex(): Duplex {
    const { stdin, stdout } = this.#child;
    if (!stdin || !stdout) throw new PermanentError('rclone was started without pipes');
    // Node accepts { readable, writable } (documented); @types/node leaves that form out
    const d = Duplex.from({ readable: stdout, writable: stdin } as unknown as Parameters<typeof Duplex.from>[0]);
    // Once rclone's output has ended no answer can come: end the connection, even if its stdin still takes writes.
    const over = (): void => void setImmediate(() => d.destroy());
    stdout.once('end', over);
    stdout.once('close', over);
    return d;
  }

  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /**
   * Why rclone is no longer serving, if it has exited (waiting up to `waitMs` for it to): its last error line
   * ("Failed to create file system for ...: didn't find section in config file") and exit status.
   */
  async failure(waitMs = 1000): Promise<PermanentError | undefined> {
    if (this.#stopping) return undefined;
    if (!this.#exit) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#exited, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
    const exit = this.#exit;
    if (!exit) return undefined;
    const status = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
    const said = [...this.#stderr].reverse().find((l) => /ERROR|CRITICAL|Failed|[Ee]rror/.test(l)) ?? this.#stderr.at(-1);
    return new PermanentError(`rclone serve restic for "${this.#cmd.remote}" stopped (${status})${said ? `: ${said}` : ''}`);
  }

  /**
   * Whether rclone (its process and pipes) keeps this process alive: only while calls are in flight. An idle child
   * never holds the process open, even when nobody calls `stop` (the exit hook ends it then).
   */
  hold(on: boolean): void {
    const c = this.#child;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as ({ ref?: () => void; unref?: () => void } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  /** Closes rclone's stdin (it exits on end of input), then SIGTERM after 2 s and SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#exit) return;
    this.hold(true); // a clean exit: wait for it
    this.#child.stdin?.end();
    const timers = [
      setTimeout(() => this.#child.kill('SIGTERM'), 2000),
      setTimeout(() => this.#child.kill('SIGKILL'), 5000),
    ];
    await this.#exited;
    for (const t of timers) clearTimeout(t);
  }
}
