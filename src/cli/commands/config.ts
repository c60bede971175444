import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import type { RepoConfig } from '../../repository/config.ts';
import { type Context, withRepository } from '../context.ts';
import { formatBytes } from '../render/output.ts';
import { registerConfigSubcommands, unknownSubcommand } from './config-check.ts';

interface Flags {
  appendOnly?: string;
  compression?: string;
}

function onOff(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(t)) return true;
  if (['off', 'false', 'no', '0'].includes(t)) return false;
  throw new UsageError(`--append-only takes on or off, got ${JSON.stringify(v)}`);
}

export function registerConfig(program: Command, ctx: () => Context): void {
  const config = program
    .command('config')
    .description('show the repository settings, or change append-only mode and the compression level; check a configuration file')
    .option('--append-only <on|off>', 'clients may add data but never delete or rewrite it')
    .option('--compression <level>', 'zstd level 0-19 for data written from now on (0 = off)')
    .allowExcessArguments()
    .action(async (f: Flags, cmd: Command) => {
      unknownSubcommand(cmd.args);
      const c = ctx();
      const change: { appendOnly?: boolean; compression?: number } = {};
      if (f.appendOnly !== undefined) change.appendOnly = onOff(f.appendOnly);
      if (f.compression !== undefined) {
        const n = Number(f.compression);
        if (!/^\d+$/.test(f.compression.trim()) || n > 19) throw new UsageError(`--compression must be an integer from 0 to 19, got ${JSON.stringify(f.compression)}`);
        change.compression = n;
      }
      const changing = Object.keys(change).length > 0;
      await withRepository(c, { lock: changing ? 'exclusive' : 'shared' }, async (repo) => {
        const cfg = changing ? await repo.updateConfig(change, c.signal) : repo.config;
        if (c.out.json) {
          c.out.data(JSON.stringify({ ...cfg, repository: repo.backend.location, changed: changing }));
          return;
        }
        for (const line of describeConfig(cfg)) c.out.data(line);
        if (changing) c.out.info('configuration updated');
      });
    });
  registerConfigSubcommands(config, ctx);
}

function describeConfig(cfg: RepoConfig): string[] {
  return [
    `repository id:   ${cfg.id}`,
    `format version:  ${cfg.version}`,
    `chunker:         min ${formatBytes(cfg.chunker.min)}, avg ${formatBytes(cfg.chunker.avg)}, max ${formatBytes(cfg.chunker.max)}`,
    `compression:     ${cfg.compression === 0 ? 'off' : `zstd level ${cfg.compression}`}`,
    `pack size:       ${formatBytes(cfg.packSize)}`,
    `append-only:     ${cfg.appendOnly ? 'on (nothing is deleted or rewritten; locks excepted)' : 'off'}`,
  ];
}
