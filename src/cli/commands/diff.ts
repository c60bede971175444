import type { Command } from 'commander';
import { type FileDiff, diffFiles } from '../../browse/file-diff.ts';
import { PathNotFoundError, type Resolved, parseRef, resolvePath, showPath } from '../../browse/path.ts';
import { formatHunk } from '../../browse/text-diff.ts';
import { type DiffStats, type SideStats, TreeDiff } from '../../browse/tree-diff.ts';
import { UsageError } from '../../errors.ts';
import { entryFromNode } from '../../model/tree-entry.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { Context } from '../context.ts';
import { jsonPath, localTimeNs } from '../render/browse.ts';
import { formatBytes } from '../render/output.ts';
import { LineWriter } from '../render/sinks.ts';
import { type Browse, withBrowse } from './browse-common.ts';

interface Flags {
  context: string;
}

export function registerDiff(program: Command, ctx: () => Context): void {
  program
    .command('diff')
    .description('show differences between two snapshots (or two versions of a directory or file)')
    .argument('<snapshot1>', 'SNAPSHOT[:PATH] (old)')
    .argument('<snapshot2>', 'SNAPSHOT[:PATH] (new)')
    .argument('[path]', 'compare only this path (in both snapshots)')
    .option('-U, --context <lines>', 'context lines of a text diff', '3')
    .action(async (a: string, b: string, path: string | undefined, f: Flags) => {
      const c = ctx();
      const context = Number(f.context);
      if (!/^\d+$/.test(f.context.trim()) || !Number.isSafeInteger(context)) throw new UsageError(`--context needs a whole number, got ${JSON.stringify(f.context)}`);
      const r1 = parseRef(a);
      const r2 = parseRef(b);
      if (path !== undefined && (r1.path !== undefined || r2.path !== undefined)) throw new UsageError('give the path either in SNAPSHOT:PATH or as the third argument, not both');
      const p1 = r1.path ?? r2.path ?? path;
      const p2 = r2.path ?? r1.path ?? path;
      await withBrowse(c, { catalog: true }, async (br) => {
        const s1 = await br.snapshot(r1.snapshot, {});
        const s2 = await br.snapshot(r2.snapshot, {});
        const out = new LineWriter();
        const x = await resolveSide(br, s1, p1, c.signal);
        const y = await resolveSide(br, s2, p2, c.signal);
        if (!x && !y) throw new PathNotFoundError(`path ${JSON.stringify(p1)} not found in snapshot ${s1.id.slice(0, 8)}${s1.id === s2.id ? '' : ` nor ${s2.id.slice(0, 8)}`}`);
        if (x?.node?.type === 'file' && y?.node?.type === 'file') {
          const d = await diffFiles(br.reader, x.node, y.node, { context, signal: c.signal });
          await printFileDiff(out, c.out.json, d, { s: s1, r: x }, { s: s2, r: y });
          return await out.flush();
        }
        if (!c.out.json && !c.out.quiet) await out.line(`comparing snapshot ${s1.id.slice(0, 8)} to ${s2.id.slice(0, 8)}:\n`);
        const td = new TreeDiff(br.store, br.repo);
        const parts = (y ?? x)?.parts ?? [];
        const changes = x?.node === undefined && y?.node === undefined && x && y ? td.trees(x.treeId as string, y.treeId as string, parts, c.signal) : td.pair(entryOf(x), entryOf(y), parts, c.signal);
        for await (const ch of changes) {
          const shown = showPath(ch.parts) + (ch.type === 'dir' ? '/' : '');
          if (c.out.json) await out.line(JSON.stringify({ message_type: 'change', ...jsonPath(ch.parts), modifier: ch.marker, type: ch.type }));
          else await out.line(`${ch.marker.padEnd(5)}${shown}`);
        }
        const st = td.stats();
        if (c.out.json) await out.line(JSON.stringify(jsonStats(st, s1, s2)));
        else if (!c.out.quiet) for (const l of textStats(st)) await out.line(l);
        await out.flush();
      });
    });
}

async function resolveSide(br: Browse, s: SnapshotWithId, p: string | undefined, signal: AbortSignal): Promise<Resolved | undefined> {
  try {
    return await resolvePath(br.store, s.tree, p ?? '/', `snapshot ${s.id.slice(0, 8)}`, signal);
  } catch (e) {
    if (e instanceof PathNotFoundError) return undefined;
    throw e;
  }
}

function entryOf(r: Resolved | undefined): ReturnType<typeof entryFromNode> | undefined {
  if (!r) return undefined;
  if (r.node) return entryFromNode(r.node);
  // the snapshot root: a directory without metadata of its own
  return { ...entryFromNode({ name: '', type: 'dir', mode: 0, uid: 0, gid: 0, mtime: '0', atime: '0', ctime: '0', subtree: r.treeId as string }), name: Buffer.alloc(0) };
}

function textStats(s: DiffStats): string[] {
  const n = (v: number): string => String(v).padStart(5);
  return [
    '',
    `Files:       ${n(s.added.files)} new, ${n(s.removed.files)} removed, ${n(s.changedFiles)} changed`,
    `Dirs:        ${n(s.added.dirs)} new, ${n(s.removed.dirs)} removed`,
    `Others:      ${n(s.added.others)} new, ${n(s.removed.others)} removed`,
    `Data Blobs:  ${n(s.added.dataBlobs)} new, ${n(s.removed.dataBlobs)} removed`,
    `Tree Blobs:  ${n(s.added.treeBlobs)} new, ${n(s.removed.treeBlobs)} removed`,
    `  Added:   ${formatBytes(s.added.bytes)}`,
    `  Removed: ${formatBytes(s.removed.bytes)}`,
  ];
}

function jsonStats(s: DiffStats, a: SnapshotWithId, b: SnapshotWithId): Record<string, unknown> {
  const side = (x: SideStats): Record<string, number> => ({ files: x.files, dirs: x.dirs, others: x.others, data_blobs: x.dataBlobs, tree_blobs: x.treeBlobs, bytes: x.bytes });
  return { message_type: 'statistics', source_snapshot: a.id, target_snapshot: b.id, changed_files: s.changedFiles, added: side(s.added), removed: side(s.removed) };
}

interface Side {
  readonly s: SnapshotWithId;
  readonly r: Resolved;
}

async function printFileDiff(out: LineWriter, json: boolean, d: FileDiff, a: Side, b: Side): Promise<void> {
  const label = (x: Side): string => `${x.s.id.slice(0, 8)}:${showPath(x.r.parts)}`;
  if (json) {
    const side = (x: Side, size: number): Record<string, unknown> => ({ snapshot: x.s.id, ...jsonPath(x.r.parts), size });
    await out.line(
      JSON.stringify({
        message_type: 'file_diff',
        result: d.kind === 'text' && d.hunks.length === 0 ? 'identical' : d.kind,
        old: side(a, d.oldSize),
        new: side(b, d.newSize),
        ...(d.kind === 'too_large' ? { limit: d.limit } : {}),
        ...(d.kind === 'text' ? { hunks: d.hunks.map((h) => ({ old_start: h.oldStart, old_lines: h.oldLines, new_start: h.newStart, new_lines: h.newLines, lines: h.lines })) } : {}),
      }),
    );
    return;
  }
  const sizes = `${formatBytes(d.oldSize)} -> ${formatBytes(d.newSize)}`;
  if (d.kind === 'identical' || (d.kind === 'text' && d.hunks.length === 0)) await out.line(`Files ${label(a)} and ${label(b)} are identical`);
  else if (d.kind === 'binary') await out.line(`Binary files ${label(a)} and ${label(b)} differ (${sizes})`);
  else if (d.kind === 'too_large') await out.line(`Files ${label(a)} and ${label(b)} differ; too large for a text diff (${sizes}, limit ${formatBytes(d.limit)})`);
  else {
    await out.line(`--- ${label(a)}\t${localTimeNs(a.r.node?.mtime ?? '0')}`);
    await out.line(`+++ ${label(b)}\t${localTimeNs(b.r.node?.mtime ?? '0')}`);
    for (const h of d.hunks) await out.line(formatHunk(h).replace(/\n$/, ''));
  }
}
