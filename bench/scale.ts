/**
 * Scale benchmarks for the "performance and scale" issue. See bench/README.md ("Scale scenarios").
 *
 *   node bench/scale.ts files  [--files N] [--rounds R] [--tools pybackup,restic,borg] [--million] [--timeout SEC]
 *   node bench/scale.ts memory [--chunks 10k,100k,1M,10M] [--rounds R] [--lookups N] [--timeout SEC]
 *   node bench/scale.ts browse [--files N] [--snapshots S] [--rounds R] [--timeout SEC]
 */
import { parseArgs } from 'node:util';
import { killActive } from './measure.ts';
import { log, parseCount, parseTools } from './scale/common.ts';
import { runBrowse } from './scale/browse.ts';
import { runFiles } from './scale/files.ts';
import { runMemory } from './scale/memory.ts';
import { FILES_FULL, MILLION } from './scale/report.ts';

const USAGE = `usage: node bench/scale.ts files|memory [options]   (or: npm run bench:scale -- files|memory [options])

files: many small files — initial backup, unchanged re-backup, full restore (verified), per tool
  --files N         files in the generated tree (default ${FILES_FULL}; 20k, 1M suffixes work)
  --million         ${MILLION} files, PyBackup only: checks peak RSS against the 400 MB target
  --tools LIST      comma-separated subset of pybackup,restic,borg (default: all)
  --rounds R        rounds per tool (default 3)
  --timeout SEC     per-command time limit (default 7200)

memory: backup memory against repository size (synthetic repositories of K chunks)
  --chunks LIST     comma-separated chunk counts (default 10k,100k,1M,10M)
  --rounds R        backups per size and catalog state (default 3)
  --lookups N       present and absent ids timed by the lookup probe (default 100k)
  --timeout SEC     per-command time limit (default 7200)

browse: ls -l (recursive) of a snapshot of N files and find across S snapshots, PyBackup vs restic
  --files N         files in the generated tree (default 100k)
  --snapshots S     snapshots of it in each repository (default 20)
  --rounds R        rounds (default 3)
  --timeout SEC     per-command time limit (default 7200)

  -h, --help        this help`;

function posInt(s: string | undefined, name: string, dflt: number): number {
  return s === undefined ? dflt : parseCount(s, `--${name}`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: {
      files: { type: 'string' },
      million: { type: 'boolean', default: false },
      tools: { type: 'string' },
      chunks: { type: 'string' },
      lookups: { type: 'string' },
      snapshots: { type: 'string' },
      rounds: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const mode = positionals[0];
  if (values.help || mode === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  if (positionals.length > 1) throw new Error(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const rounds = posInt(values.rounds, 'rounds', 3);
  const timeoutSec = posInt(values.timeout, 'timeout', 7200);
  if (values.snapshots !== undefined && mode !== 'browse') throw new Error('--snapshots belongs to the browse scenario');
  if (mode === 'files') {
    if (values.chunks !== undefined || values.lookups !== undefined) throw new Error('--chunks and --lookups belong to the memory scenario');
    if (values.million && (values.files !== undefined || values.tools !== undefined)) throw new Error('--million sets --files and --tools itself');
    const files = values.million ? MILLION : posInt(values.files, 'files', FILES_FULL);
    const tools = values.million ? parseTools('pybackup') : parseTools(values.tools);
    return await runFiles({ files, rounds, tools, timeoutSec });
  }
  if (mode === 'memory') {
    if (values.files !== undefined || values.tools !== undefined || values.million) throw new Error('--files, --tools and --million belong to the files scenario');
    const chunks = (values.chunks ?? '10k,100k,1M,10M').split(',').map((c) => parseCount(c, '--chunks'));
    return await runMemory({ chunks: [...new Set(chunks)].toSorted((a, b) => a - b), rounds, lookups: posInt(values.lookups, 'lookups', 100_000), timeoutSec });
  }
  if (mode === 'browse') {
    if (values.chunks !== undefined || values.lookups !== undefined || values.tools !== undefined || values.million) throw new Error('--chunks, --lookups, --tools and --million do not apply to the browse scenario');
    return await runBrowse({ files: posInt(values.files, 'files', 100_000), snapshots: posInt(values.snapshots, 'snapshots', 20), rounds, timeoutSec });
  }
  throw new Error(`unknown scenario "${mode}" (files, memory or browse; see --help)`);
}

process.once('SIGINT', () => {
  log('\nSIGINT: stopping the running command');
  killActive();
  process.exit(130);
});
try {
  process.exitCode = await main();
} catch (e) {
  log(`bench/scale: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
