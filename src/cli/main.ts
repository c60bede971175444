import { Command, CommanderError } from 'commander';
import { PyBackupError } from '../errors.ts';
import { setBackendOptions } from '../app/backend-options.ts';
import { type Context, type GlobalOptions, makeContext } from './context.ts';
import { parseKiBps } from './limits.ts';
import { VERSION } from './version.ts';

/**
 * The CLI entry: argv -> command; SIGINT -> AbortController; errors -> exit codes (the only place that does so).
 * Exit codes follow restic: 0 ok, 1 error, 3 backup with unreadable files, 10 no repository, 11 lock failed,
 * 12 wrong password, 130 interrupted.
 */
export const EXIT = { ok: 0, error: 1, partial: 3, noRepo: 10, lock: 11, password: 12, interrupted: 130 } as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof PyBackupError) {
    switch (e.code) {
      case 'REPO_NOT_FOUND':
        return EXIT.noRepo;
      case 'LOCK_FAILED':
        return EXIT.lock;
      case 'WRONG_PASSWORD':
        return EXIT.password;
      case 'ABORTED':
        return EXIT.interrupted;
      default:
        return EXIT.error;
    }
  }
  return EXIT.error;
}

interface CommandDeps {
  program: Command;
  getCtx: () => Context;
  setCode: (c: number) => void;
  cleanStop: () => void;
}
type Register = (d: CommandDeps) => void;

/**
 * Every command, in the order of `--help`, each loaded on demand: a run loads only the modules of the command it
 * names (a backup does not compile the web UI, the scheduler or the browse code: about a third less start-up time;
 * peak memory is set by the key derivation, not by this). Each entry imports its module and returns its registration.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['init', async () => { const m = await import('./commands/init.ts'); return (d) => m.registerInit(d.program, d.getCtx); }],
  ['backup', async () => { const m = await import('./commands/backup.ts'); return (d) => m.registerBackup(d.program, d.getCtx, d.setCode); }],
  ['snapshots', async () => { const m = await import('./commands/snapshots.ts'); return (d) => m.registerSnapshots(d.program, d.getCtx); }],
  ['forget', async () => { const m = await import('./commands/forget.ts'); return (d) => m.registerForget(d.program, d.getCtx, d.setCode); }],
  ['prune', async () => { const m = await import('./commands/prune.ts'); return (d) => m.registerPrune(d.program, d.getCtx); }],
  ['restore', async () => { const m = await import('./commands/restore.ts'); return (d) => m.registerRestore(d.program, d.getCtx, d.setCode); }],
  ['ls', async () => { const m = await import('./commands/ls.ts'); return (d) => m.registerLs(d.program, d.getCtx); }],
  ['find', async () => { const m = await import('./commands/find.ts'); return (d) => m.registerFind(d.program, d.getCtx); }],
  ['history', async () => { const m = await import('./commands/history.ts'); return (d) => m.registerHistory(d.program, d.getCtx); }],
  ['diff', async () => { const m = await import('./commands/diff.ts'); return (d) => m.registerDiff(d.program, d.getCtx); }],
  ['dump', async () => { const m = await import('./commands/dump.ts'); return (d) => m.registerDump(d.program, d.getCtx); }],
  ['cat', async () => { const m = await import('./commands/cat.ts'); return (d) => m.registerCat(d.program, d.getCtx); }],
  ['stats', async () => { const m = await import('./commands/stats.ts'); return (d) => m.registerStats(d.program, d.getCtx); }],
  ['check', async () => { const m = await import('./commands/check.ts'); return (d) => m.registerCheck(d.program, d.getCtx); }],
  ['repair', async () => { const m = await import('./commands/repair.ts'); return (d) => m.registerRepair(d.program, d.getCtx); }],
  ['drill', async () => { const m = await import('./commands/drill.ts'); return (d) => m.registerDrill(d.program, d.getCtx, d.setCode); }],
  ['key', async () => { const m = await import('./commands/key.ts'); return (d) => m.registerKey(d.program, d.getCtx); }],
  ['config', async () => { const m = await import('./commands/config.ts'); return (d) => m.registerConfig(d.program, d.getCtx); }],
  ['run', async () => { const m = await import('./commands/run.ts'); return (d) => m.registerRun(d.program, d.getCtx, d.setCode, exitCodeFor); }],
  ['profiles', async () => { const m = await import('./commands/profiles.ts'); return (d) => m.registerProfiles(d.program, d.getCtx); }],
  ['daemon', async () => { const m = await import('./commands/daemon.ts'); return (d) => m.registerDaemon(d.program, d.getCtx, d.cleanStop); }],
  ['status', async () => { const m = await import('./commands/status.ts'); return (d) => m.registerStatus(d.program, d.getCtx); }],
  ['schedule', async () => { const m = await import('./commands/schedule.ts'); return (d) => m.registerSchedule(d.program, d.getCtx); }],
  ['watch', async () => { const m = await import('./commands/watch.ts'); return (d) => m.registerWatch(d.program, d.getCtx, d.cleanStop); }],
  ['copy', async () => { const m = await import('./commands/copy.ts'); return (d) => m.registerCopy(d.program, d.getCtx); }],
  ['web', async () => { const m = await import('./commands/web.ts'); return (d) => m.registerWeb(d.program, d.getCtx); }],
  ['serve', async () => { const m = await import('./commands/serve.ts'); return (d) => m.registerServe(d.program, d.getCtx); }],
  ['mount', async () => { const m = await import('./commands/mount.ts'); return (d) => m.registerMount(d.program, d.getCtx, d.cleanStop); }],
];

/** The commands whose name is one of the arguments (a global option's value may match too: harmless), or all of them (help, a typo). */
export async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const words = new Set(argv);
  const named = COMMANDS.filter(([name]) => words.has(name));
  return await Promise.all((named.length > 0 ? named : COMMANDS).map(async ([, load]) => await load()));
}

export async function main(argv: readonly string[]): Promise<number> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\ninterrupted: finishing cleanly (press Ctrl-C again to quit at once)\n');
    ac.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let code = EXIT.ok as number;
  let ctx: Context | undefined;
  const program = new Command('pybackup')
    .description('Fast, encrypted, deduplicating backups')
    .version(VERSION, '-V, --version')
    .option('-r, --repo <repository>', 'repository location (default: $PYBACKUP_REPOSITORY)')
    .option('--password-file <file>', 'read the password from a file (default: $PYBACKUP_PASSWORD_FILE)')
    .option('--password-command <command>', 'run a shell command that prints the password (default: $PYBACKUP_PASSWORD_COMMAND)')
    .option('--json', 'machine-readable output (NDJSON / JSON)')
    .option('-q, --quiet', 'print nothing but errors and requested data')
    .option('--no-lock', 'do not lock the repository (read-only commands only)')
    .option('--limit-upload <KiB/s>', 'limit uploads to the repository to this many KiB/s', parseKiBps)
    .option('--limit-download <KiB/s>', 'limit downloads from the repository to this many KiB/s', parseKiBps)
    .option('-o, --option <key=value>', 'backend option, repeatable (s3.path-style=true|false, s3.region=NAME, sftp.key=FILE, sftp.known_hosts=FILE, sftp.connections=N)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const getCtx = (): Context => (ctx ??= makeContext(program.opts<GlobalOptions & { lock?: boolean }>() as GlobalOptions, ac.signal));
  program.hook('preAction', () => {
    const g = program.opts<{ lock?: boolean; option?: string[] }>();
    setBackendOptions(g.option ?? []);
    ctx = makeContext({ ...(program.opts() as GlobalOptions), noLock: g.lock === false }, ac.signal);
  });
  const setCode = (c: number): void => {
    code = Math.max(code, c);
  };
  // the daemon and watch end on SIGTERM/SIGINT by design: a stop that left nothing half done exits 0, not 130
  let stoppedCleanly = false;
  const cleanStop = (): void => {
    stoppedCleanly = true;
  };
  const deps: CommandDeps = { program, getCtx, setCode, cleanStop };
  for (const register of await commandsFor(argv)) register(deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.error;
    }
    ctx?.out.clearStatus();
    if (e instanceof PyBackupError && e.code !== 'INTERNAL') {
      process.stderr.write(`pybackup: ${e.message}\n`);
    } else {
      process.stderr.write(`pybackup: internal error (a bug): ${(e as Error)?.stack ?? String(e)}\n`);
    }
    if (getCtx().globals.json) process.stdout.write(`${JSON.stringify({ message_type: 'exit_error', code: exitCodeFor(e), message: (e as Error).message })}\n`);
    return exitCodeFor(e);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (ac.signal.aborted && !stoppedCleanly) return EXIT.interrupted;
  return code;
}

/** Runs the CLI on this process's arguments and sets its exit code (entry.ts; or this file run directly). */
export function runCli(): void {
  // A reader that went away (`pybackup ls ... | head`) ends the output, not the process with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  // Once the command is over nothing may keep the process alive; if a bug left a worker or a timer behind, exit
  // anyway (a backup that failed on an internal error must not hang a cron job or a CI run).
  const done = (code: number): void => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 3000).unref();
  };
  main(process.argv.slice(2)).then(done, (e: unknown) => {
    process.stderr.write(`pybackup: internal error: ${String(e)}\n`);
    done(1);
  });
}

if (import.meta.main) runCli();
