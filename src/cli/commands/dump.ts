import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { type ArchiveFormat, type DumpStats, dumpArchive, dumpFile } from '../../browse/dump.ts';
import { displayName, parseRef, resolvePath, showPath } from '../../browse/path.ts';
import { PyBackupError, UsageError } from '../../errors.ts';
import { linkTargetBytes } from '../../model/node.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../render/output.ts';
import { fileSink, writeTo } from '../render/sinks.ts';
import { type FilterFlags, filterOf, filterOptions, withBrowse } from './browse-common.ts';

interface Flags extends FilterFlags {
  archive: string;
  target?: string;
}

export function registerDump(program: Command, ctx: () => Context): void {
  filterOptions(
    program
      .command('dump')
      .description('write a file from a snapshot to stdout, or a directory as a tar or zip archive')
      .argument('<snapshot>', 'SNAPSHOT:PATH ("latest" or an ID prefix; no PATH = the whole snapshot)')
      .argument('[path]', 'the path, as restic takes it (dump SNAPSHOT PATH)')
      .option('-a, --archive <format>', 'archive format for directories: tar or zip', 'tar')
      .option('-t, --target <file>', 'write to this file instead of stdout'),
    'snapshots for "latest":',
  ).action(async (ref: string, extra: string | undefined, f: Flags) => {
    const c = ctx();
    const format = f.archive as ArchiveFormat;
    if (format !== 'tar' && format !== 'zip') throw new UsageError(`unknown archive format ${JSON.stringify(f.archive)}: use tar or zip`);
    const r = parseRef(ref);
    if (r.path !== undefined && extra !== undefined) throw new UsageError(`give the path either as ${r.snapshot}:PATH or as a second argument, not both`);
    const path = r.path ?? extra ?? '/';
    await withBrowse(c, { catalog: false }, async (b) => {
      const snap = await b.snapshot(r.snapshot, filterOf(f));
      const where = `snapshot ${snap.id.slice(0, 8)}`;
      const res = await resolvePath(b.store, snap.tree, path, where, c.signal);
      const node = res.node;
      if (node && node.type !== 'file' && node.type !== 'dir') {
        const what = node.type === 'symlink' ? `a symlink to ${displayName(linkTargetBytes(node))}` : `a ${node.type}`;
        throw new UsageError(`${showPath(res.parts)} in ${where} is ${what}; only files and directories can be dumped`);
      }
      const isArchive = node?.type !== 'file';
      if (f.target === undefined && isArchive && process.stdout.isTTY) throw new UsageError('stdout is a terminal: redirect the archive to a file or pipe, or use --target FILE');
      const target = f.target === undefined ? undefined : await fileSink(f.target).catch((e: unknown) => {
        throw new PyBackupError('IO', `cannot create ${f.target}: ${(e as Error).message}`, { cause: e });
      });
      const sink = target?.sink ?? ((chunk: Uint8Array) => writeTo(process.stdout, chunk));
      let stats: DumpStats;
      try {
        if (node?.type === 'file') stats = { files: 1, dirs: 0, others: 0, bytes: await dumpFile(b.reader, node, sink, c.signal) };
        else {
          const name = res.parts[res.parts.length - 1];
          stats = await dumpArchive(format, b.store, b.reader, { treeId: res.treeId as string, node, name }, sink, {
            signal: c.signal,
            onSkip: (p, why) => c.out.warn(`warning: skipped ${displayName(p)}: ${why}`),
          });
        }
        await target?.close();
      } catch (e) {
        if (target && f.target !== undefined) {
          await target.close().catch(() => {});
          await rm(f.target, { force: true }).catch(() => {});
        }
        throw e;
      }
      if (f.target === undefined) return;
      if (c.out.json) c.out.line({ message_type: 'summary', target: f.target, format: isArchive ? format : 'file', files: stats.files, dirs: stats.dirs, others: stats.others, bytes: stats.bytes });
      else c.out.info(`wrote ${isArchive ? `${format}: ${stats.files} files, ${stats.dirs} directories, ${stats.others} others, ` : ''}${formatBytes(stats.bytes)} to ${f.target}`);
    });
  });
}
