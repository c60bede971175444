import { resolve } from 'node:path';
import type { Command } from 'commander';
import { history, type HistoryEvent } from '../../browse/history.ts';
import { PathNotFoundError, displayName, showPath, splitPath } from '../../browse/path.ts';
import { UsageError } from '../../errors.ts';
import { matchesFilter } from '../../repository/snapshots.ts';
import type { Context } from '../context.ts';
import { fieldsOfEntry, jsonNode, localTimeIso, localTimeNs, modeString } from '../render/browse.ts';
import { formatBytes } from '../render/output.ts';
import { LineWriter } from '../render/sinks.ts';
import { type FilterFlags, filterOf, filterOptions, withBrowse } from './browse-common.ts';

interface Flags extends FilterFlags {
  all?: boolean;
}

export function registerHistory(program: Command, ctx: () => Context): void {
  filterOptions(
    program
      .command('history')
      .description('every version of one file or directory across snapshots: when it appeared, changed, was deleted')
      .argument('<path>', 'absolute path as backed up (a relative one is taken from the current directory)')
      .option('--all', 'also list the snapshots in which it did not change'),
  ).action(async (arg: string, f: Flags) => {
    const c = ctx();
    if (arg.trim() === '') throw new UsageError('history needs a path');
    const abs = arg.startsWith('/') ? arg : resolve(arg);
    const comps = splitPath(abs);
    if (comps.length === 0) throw new UsageError('history needs a path below the snapshot root, e.g. /home/ann/notes.txt');
    await withBrowse(c, { catalog: true }, async (b) => {
      const snaps = (await b.snapshots()).filter((s) => matchesFilter(s, filterOf(f)));
      c.out.status(`looking up ${abs} in ${snaps.length} snapshots`);
      const groups = (await history(b.store, snaps, comps, { all: !!f.all, signal: c.signal })).filter((g) => g.events.length > 0);
      c.out.clearStatus();
      if (groups.length === 0) throw new PathNotFoundError(`path ${JSON.stringify(abs)} not found in any of ${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}`);
      const out = new LineWriter();
      for (const [gi, g] of groups.entries()) {
        const shown = g.events.find((e) => e.parts)?.parts;
        if (c.out.json) {
          for (const e of g.events) await out.line(JSON.stringify(jsonEvent(e, g.host, g.paths)));
          continue;
        }
        if (gi > 0) await out.line('');
        await out.line(`${shown ? showPath(shown) : abs} (host ${g.host}, paths [${g.paths.join(' ')}]): present in ${g.present} of ${g.total} snapshots`);
        for (const e of g.events) await out.line(textEvent(e));
      }
      await out.flush();
    });
  });
}

function sizeOf(e: HistoryEvent): string {
  const n = e.entry;
  if (!n) return '';
  if (n.type === 'file') return formatBytes(n.size);
  if (n.type === 'dir') return `${e.entries ?? 0} entries`;
  if (n.type === 'symlink' && n.linkTarget) return `-> ${displayName(n.linkTarget)}`;
  return n.type;
}

function textEvent(e: HistoryEvent): string {
  const head = `${localTimeIso(e.snapshot.time)}  ${e.snapshot.id.slice(0, 8)}  ${e.kind.padEnd(10)}`;
  const n = e.entry;
  if (!n) return head.trimEnd();
  return `${head}  ${sizeOf(e).padStart(12)}  ${modeString(n.type, n.mode)}  ${(n.user || String(n.uid)).padEnd(8)} ${(n.group || String(n.gid)).padEnd(8)} mtime ${localTimeNs(n.mtime)}`;
}

function jsonEvent(e: HistoryEvent, host: string, paths: readonly string[]): Record<string, unknown> {
  const base = { message_type: 'version', kind: e.kind, snapshot: e.snapshot.id, short_id: e.snapshot.id.slice(0, 8), time: e.snapshot.time, host, paths };
  if (!e.entry || !e.parts) return base;
  return { ...base, ...jsonNode(fieldsOfEntry(e.entry), e.parts, e.entries === undefined ? {} : { entries: e.entries }) };
}
