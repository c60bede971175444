import type { Command } from 'commander';
import { type ConfigProblem, findConfigFile, parseConfig, readConfigText } from '../../app/profile/load.ts';
import { closest } from '../../app/profile/suggest.ts';
import { InvalidInputError, UsageError } from '../../errors.ts';
import type { Context } from '../context.ts';
import { listProfiles } from './profiles.ts';
import { CONFIG_OPTION } from './run.ts';

/** "FILE:LINE:COL: message", then the line and a caret under the column (as compilers print it). */
function problemText(file: string, lines: readonly string[], p: ConfigProblem): string {
  const head = `${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.message}`;
  const src = p.line ? lines[p.line - 1] : undefined;
  if (src === undefined) return head;
  const shown = src.replaceAll('\t', ' ');
  return `${head}\n  ${String(p.line).padStart(4)} | ${shown}\n       | ${' '.repeat(Math.max(0, (p.column ?? 1) - 1))}^`;
}

/** `config chekc`: the parent's action got a word that is no subcommand. */
export function unknownSubcommand(args: readonly string[]): void {
  const [word] = args;
  if (word === undefined) return;
  const near = closest(word, SUBCOMMANDS);
  throw new UsageError(`unknown config subcommand ${JSON.stringify(word)}${near ? `; did you mean "${near}"?` : ''} (config takes ${SUBCOMMANDS.join(', ')}, or options only)`);
}

const SUBCOMMANDS = ['check', 'profiles'];

/** Refuses the parent's options on a subcommand (`config --append-only off check` would silently drop them). */
function noParentOptions(cmd: Command, name: string): void {
  const o = cmd.parent?.opts<{ appendOnly?: string; compression?: string }>() ?? {};
  if (o.appendOnly !== undefined || o.compression !== undefined) throw new UsageError(`config ${name} does not take --append-only or --compression`);
}

/** `config check [FILE]` and `config profiles`: subcommands of `config`, whose own action stays the repository settings. */
export function registerConfigSubcommands(config: Command, ctx: () => Context): void {
  config
    .command('check')
    .description('check a configuration file (default: the one `run` uses) and point to the line and column of each mistake')
    .argument('[file]', 'the configuration file')
    .action(function (this: Command, file: string | undefined) {
      noParentOptions(this, 'check');
      const c = ctx();
      const path = findConfigFile(file);
      const text = readConfigText(path);
      const r = parseConfig(text, path);
      if (c.out.json) {
        c.out.data(JSON.stringify({ file: path, valid: r.config !== undefined, profiles: r.config ? [...r.config.profiles.keys()] : [], problems: r.problems }));
      } else if (r.config) {
        const names = [...r.config.profiles.keys()];
        c.out.data(`${path}: OK, ${names.length} profile${names.length === 1 ? '' : 's'} (${names.join(', ')})`);
      } else {
        const lines = text.split(/\r?\n/);
        for (const p of r.problems) c.out.data(problemText(path, lines, p));
      }
      if (!r.config) throw new InvalidInputError(`${path}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} found`);
    });
  config
    .command('profiles')
    .description('list the profiles of the configuration file (same as `pybackup profiles`)')
    .option(...CONFIG_OPTION)
    .action(function (this: Command, f: { config?: string }) {
      noParentOptions(this, 'profiles');
      listProfiles(ctx(), f.config);
    });
}
