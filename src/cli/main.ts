import { Command, CommanderError } from 'commander';
import { PyBackupError } from '../errors.ts';
import { setBackendOptions } from '../app/backend-options.ts';
import { registerBackup } from './commands/backup.ts';
import { registerCat } from './commands/cat.ts';
import { registerCheck } from './commands/check.ts';
import { registerPrune } from './commands/prune.ts';
import { registerRepair } from './commands/repair.ts';
import { registerConfig } from './commands/config.ts';
import { registerDrill } from './commands/drill.ts';
import { registerForget } from './commands/forget.ts';
import { registerInit } from './commands/init.ts';
import { registerKey } from './commands/key.ts';
import { registerRestore } from './commands/restore.ts';
import { registerProfiles } from './commands/profiles.ts';
import { registerRun } from './commands/run.ts';
import { registerSnapshots } from './commands/snapshots.ts';
import { registerStats } from './commands/stats.ts';
import { registerDiff } from './commands/diff.ts';
import { registerDump } from './commands/dump.ts';
import { registerFind } from './commands/find.ts';
import { registerHistory } from './commands/history.ts';
import { registerLs } from './commands/ls.ts';
import { registerDaemon } from './commands/daemon.ts';
import { registerSchedule } from './commands/schedule.ts';
import { registerStatus } from './commands/status.ts';
import { registerWatch } from './commands/watch.ts';
import { registerCopy } from './commands/copy.ts';
import { registerWeb } from './commands/web.ts';
import { registerMount } from './commands/mount.ts';
import { registerServe } from './commands/serve.ts';
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
  registerInit(program, getCtx);
  registerBackup(program, getCtx, setCode);
  registerSnapshots(program, getCtx);
  registerForget(program, getCtx, setCode);
  registerPrune(program, getCtx);
  registerRestore(program, getCtx, setCode);
  registerLs(program, getCtx);
  registerFind(program, getCtx);
  registerHistory(program, getCtx);
  registerDiff(program, getCtx);
  registerDump(program, getCtx);
  registerCat(program, getCtx);
  registerStats(program, getCtx);
  registerCheck(program, getCtx);
  registerRepair(program, getCtx);
  registerDrill(program, getCtx, setCode);
  registerKey(program, getCtx);
  registerConfig(program, getCtx);
  registerRun(program, getCtx, setCode, exitCodeFor);
  registerProfiles(program, getCtx);
  // the daemon and watch end on SIGTERM/SIGINT by design: a stop that left nothing half done exits 0, not 130
  let stoppedCleanly = false;
  const cleanStop = (): void => {
    stoppedCleanly = true;
  };
  registerDaemon(program, getCtx, cleanStop);
  registerStatus(program, getCtx);
  registerSchedule(program, getCtx);
  registerWatch(program, getCtx, cleanStop);
  registerCopy(program, getCtx);
  registerWeb(program, getCtx);
  registerServe(program, getCtx);
  registerMount(program, getCtx, cleanStop);
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

if (import.meta.main) {
  // A reader that went away (`pybackup ls ... | head`) ends the output, not the process with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`pybackup: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
