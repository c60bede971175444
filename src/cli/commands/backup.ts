import { type Command, Option } from 'commander';
import type { Context } from '../context.ts';
import { type BackupFlags, performBackup } from './backup-run.ts';
import { collect } from './common.ts';

export function registerBackup(program: Command, ctx: () => Context, setCode: (c: number) => void): void {
  program
    .command('backup')
    .description('create a new snapshot of files and directories')
    .argument('[paths...]', 'files and directories to back up')
    .option('--tag <tags>', 'add tags (comma-separated, repeatable)', collect, [])
    .option('-H, --host <hostname>', 'set the hostname of the snapshot')
    .option('--time <time>', 'snapshot time instead of now ("2006-01-02 15:04:05" or ISO 8601)')
    .option('-e, --exclude <pattern>', 'exclude a pattern (repeatable)', collect, [])
    .option('--iexclude <pattern>', 'like --exclude, case-insensitive', collect, [])
    .option('--exclude-file <file>', 'read exclude patterns from a file (repeatable)', collect, [])
    .option('--iexclude-file <file>', 'like --exclude-file, case-insensitive', collect, [])
    .option('--exclude-caches', 'exclude the contents of directories with a valid CACHEDIR.TAG')
    .option('--exclude-if-present <name[:header]>', 'exclude directories containing this file (repeatable)', collect, [])
    .option('--exclude-larger-than <size>', 'exclude files larger than size (e.g. 100M)')
    .option('-x, --one-file-system', 'do not cross filesystem boundaries')
    .option('--files-from <file>', 'read paths to back up from a file, one per line (repeatable)', collect, [])
    .option('--files-from-verbatim <file>', 'like --files-from, lines taken as they are', collect, [])
    .option('--files-from-raw <file>', 'like --files-from, NUL-separated', collect, [])
    .option('--stdin', 'back up standard input as a file')
    .option('--stdin-filename <name>', 'file name for --stdin', 'stdin')
    .option('-n, --dry-run', 'do everything except write to the repository')
    .option('--parent <snapshot>', 'use this parent snapshot (default: latest with the same host and paths)')
    .option('-f, --force', 're-read every file, ignoring the files cache')
    .option('--git-ignore', 'honour .gitignore files')
    .option('--no-xattrs', 'do not save extended attributes')
    .option('--as-path <path>', 'record the one source path as this absolute path (back up a filesystem snapshot as the original)')
    .option('--compression <level>', "zstd level 0-19 for this backup's new data (default: the repository's setting)")
    .addOption(new Option('--workers <n>', 'file worker threads').hideHelp())
    .action(async (args: string[], f: BackupFlags) => {
      const r = await performBackup(ctx(), args, f);
      if (r.errors > 0) setCode(3);
    });
}
