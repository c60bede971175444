import type { Command } from 'commander';
import { initRepository } from '../../app/open-repository.ts';
import { parseSize } from '../../archiver/size.ts';
import { validateChunkerParams } from '../../chunker/fastcdc.ts';
import { UsageError } from '../../errors.ts';
import { type Context, password, repoLocation } from '../context.ts';
import { addFromRepoOptions, type FromRepoFlags, openFromRepo } from './from-repo.ts';

interface InitFlags extends FromRepoFlags {
  copyChunkerParams?: boolean;
  chunkMin?: string;
  chunkAvg?: string;
  chunkMax?: string;
  compression?: string;
  packSize?: string;
  kdfMemory?: string;
  appendOnly?: boolean;
}

export function registerInit(program: Command, ctx: () => Context): void {
  const cmd = program
    .command('init')
    .description('create a new repository')
    .option('--chunk-min <size>', 'minimum chunk size (default 512K)')
    .option('--chunk-avg <size>', 'average chunk size, a power of two (default 1M)')
    .option('--chunk-max <size>', 'maximum chunk size (default 8M)')
    .option('--compression <level>', 'zstd level 0-19, 0 = off (default 1: fast; 3 saves ~1-2 % more)')
    .option('--pack-size <size>', 'target pack file size (default 16M)')
    .option('--kdf-memory <KiB>', 'Argon2id memory in KiB (default 65536)')
    .option('--append-only', 'clients may add snapshots but never delete or rewrite data (change with `config`)')
    .option('--copy-chunker-params', 'use the chunker parameters and chunker secret of --from-repo, so `copy` keeps chunk boundaries and backups of the same data dedupe with copies');
  addFromRepoOptions(cmd).action(async (f: InitFlags) => {
    const c = ctx();
    if (!f.copyChunkerParams && (f.fromRepo !== undefined || f.fromPasswordFile !== undefined || f.fromPasswordCommand !== undefined)) {
      throw new UsageError('--from-repo and its password options are used by init only with --copy-chunker-params');
    }
    const copied = f.copyChunkerParams ? await chunkerOf(c, f) : undefined;
    const chunker = copied?.params ?? {
      min: f.chunkMin ? parseSize(f.chunkMin) : 512 * 1024,
      avg: f.chunkAvg ? parseSize(f.chunkAvg) : 1024 * 1024,
      max: f.chunkMax ? parseSize(f.chunkMax) : 8 * 1024 * 1024,
    };
    try {
      validateChunkerParams(chunker);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const compression = f.compression === undefined ? 1 : Number(f.compression);
    if (!Number.isInteger(compression) || compression < 0 || compression > 19) throw new UsageError('--compression must be an integer from 0 to 19');
    const packSize = f.packSize ? parseSize(f.packSize) : 16 << 20;
    if (packSize < 1 << 20 || packSize > 1 << 30) throw new UsageError('--pack-size must be between 1M and 1G');
    const memory = f.kdfMemory ? Number(f.kdfMemory) : undefined;
    if (memory !== undefined && (!Number.isInteger(memory) || memory < 8192)) throw new UsageError('--kdf-memory must be an integer >= 8192');
    const location = repoLocation(c);
    if (!location) throw new UsageError('no repository given: use -r/--repo or set PYBACKUP_REPOSITORY');
    const repo = await initRepository(location, await password(c, { confirm: true }), {
      chunker,
      compression,
      packSize,
      appendOnly: !!f.appendOnly,
      ...(copied ? { chunkerKey: copied.key } : {}),
      ...(memory ? { kdf: { memory } } : {}),
    });
    await repo.close();
    if (c.out.json) c.out.line({ message_type: 'initialized', id: repo.config.id, repository: repo.backend.location });
    else {
      c.out.info(`created pybackup repository ${repo.config.id.slice(0, 10)} at ${repo.backend.location}`);
      c.out.info('');
      c.out.info('Please note that knowledge of your password is required to access the repository.');
      c.out.info('Losing your password means that your data is irrecoverably lost.');
    }
  });
}

/** The chunker parameters and secret of the --from-repo repository (init --copy-chunker-params). */
async function chunkerOf(c: Context, f: InitFlags): Promise<{ params: { min: number; avg: number; max: number }; key: Buffer }> {
  if (f.chunkMin !== undefined || f.chunkAvg !== undefined || f.chunkMax !== undefined) {
    throw new UsageError('--copy-chunker-params cannot be combined with --chunk-min/--chunk-avg/--chunk-max');
  }
  if (!f.fromRepo && !process.env.PYBACKUP_FROM_REPOSITORY) throw new UsageError('--copy-chunker-params needs --from-repo (or PYBACKUP_FROM_REPOSITORY)');
  const src = await openFromRepo(c, f);
  try {
    return { params: { ...src.config.chunker }, key: Buffer.from(src.key.chunker) };
  } finally {
    await src.close().catch(() => {});
  }
}
