import type { Command } from 'commander';
import { Finder } from '../../browse/find.ts';
import { showPath } from '../../browse/path.ts';
import { compilePatterns } from '../../browse/pattern.ts';
import { UsageError } from '../../errors.ts';
import { NODE_TYPES, type NodeType } from '../../model/node.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { matchesFilter, resolveSnapshot } from '../../repository/snapshots.ts';
import type { Context } from '../context.ts';
import { fieldsOfEntry, jsonNode, localTimeIso, longLine } from '../render/browse.ts';
import { LineWriter } from '../render/sinks.ts';
import { type FilterFlags, filterOf, filterOptions, withBrowse } from './browse-common.ts';
import { collect, parseTime } from './common.ts';

interface Flags extends FilterFlags {
  snapshot: string[];
  ignoreCase?: boolean;
  oldest?: string;
  newest?: string;
  type: string[];
  humanReadable?: boolean;
}

export function registerFind(program: Command, ctx: () => Context): void {
  filterOptions(
    program
      .command('find')
      .description('find files and directories in all snapshots by name or path (glob, or re:REGEX)')
      .argument('<pattern...>', 'glob matched against the name and the full path ("*.txt", "/home/*/notes", "docs/**"), or re:REGEX')
      .option('-s, --snapshot <id>', 'search only this snapshot (ID prefix or "latest"; repeatable)', collect, [])
      .option('-i, --ignore-case', 'ignore case in patterns')
      .option('-O, --oldest <time>', 'only entries modified at or after this time ("YYYY-MM-DD HH:MM:SS")')
      .option('-N, --newest <time>', 'only entries modified at or before this time')
      .option('--type <type>', `only entries of this type (${NODE_TYPES.join(', ')}; repeatable or a,b)`, collect, [])
      .option('--human-readable', 'sizes as KiB/MiB/…'),
  ).action(async (patterns: string[], f: Flags) => {
    const c = ctx();
    const match = compilePatterns(patterns, { ignoreCase: !!f.ignoreCase });
    const toNs = (s: string | undefined): bigint | undefined => (s === undefined ? undefined : BigInt(parseTime(s).getTime()) * 1_000_000n);
    const types = new Set<NodeType>();
    for (const t of f.type.flatMap((x) => x.split(','))) {
      if (!(NODE_TYPES as readonly string[]).includes(t)) throw new UsageError(`unknown type ${JSON.stringify(t)}; expected one of ${NODE_TYPES.join(', ')}`);
      types.add(t as NodeType);
    }
    const filter = { match, oldest: toNs(f.oldest), newest: toNs(f.newest), types: types.size > 0 ? types : undefined };
    await withBrowse(c, { catalog: true }, async (b) => {
      const all = await b.snapshots();
      let snaps: SnapshotWithId[];
      if (f.snapshot.length > 0) {
        const picked = new Map<string, SnapshotWithId>();
        for (const ref of f.snapshot) {
          const s = resolveSnapshot(all, ref, filterOf(f));
          picked.set(s.id, s);
        }
        snaps = all.filter((s) => picked.has(s.id));
      } else snaps = all.filter((s) => matchesFilter(s, filterOf(f)));
      const finder = new Finder(b.store, filter);
      const out = new LineWriter();
      let matches = 0;
      let withMatches = 0;
      for (const [i, s] of snaps.entries()) {
        c.out.status(`searching snapshot ${i + 1}/${snaps.length} (${s.id.slice(0, 8)})`);
        const found = await finder.find(s.tree, c.signal);
        if (found.length === 0) continue;
        withMatches++;
        matches += found.length;
        c.out.clearStatus();
        if (c.out.json) {
          const head = { message_type: 'match', snapshot: s.id, short_id: s.id.slice(0, 8), snapshot_time: s.time };
          for (const m of found) await out.line(JSON.stringify({ ...head, ...jsonNode(fieldsOfEntry(m.entry), m.parts) }));
          continue;
        }
        if (withMatches > 1) await out.line('');
        await out.line(`Found matching entries in snapshot ${s.id.slice(0, 8)} from ${localTimeIso(s.time)}`);
        for (const m of found) await out.line(longLine(fieldsOfEntry(m.entry), showPath(m.parts), { human: !!f.humanReadable }));
      }
      c.out.clearStatus();
      const st = b.store.stats;
      if (c.out.json) {
        await out.line(
          JSON.stringify({ message_type: 'summary', snapshots_searched: snaps.length, snapshots_with_matches: withMatches, matches, trees_loaded: st.treesLoaded, trees_from_catalog: st.treesFromCatalog }),
        );
      }
      await out.flush();
      if (!c.out.json && !c.out.quiet && matches === 0) c.out.warn(`no matches in ${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}`);
    });
  });
}
