import type { Command } from 'commander';
import { walk } from '../../browse/list.ts';
import { nodeDisplayName, parseRef, resolvePath, showPath } from '../../browse/path.ts';
import { type Node, nodeNameBytes } from '../../model/node.ts';
import { UsageError } from '../../errors.ts';
import type { Context } from '../context.ts';
import { fieldsOfNode, jsonNode, jsonSnapshot, longLine, snapshotLabel } from '../render/browse.ts';
import { LineWriter } from '../render/sinks.ts';
import { type FilterFlags, filterOf, filterOptions, withBrowse } from './browse-common.ts';

interface Flags extends FilterFlags {
  long?: boolean;
  recursive?: boolean;
  humanReadable?: boolean;
}

export function registerLs(program: Command, ctx: () => Context): void {
  filterOptions(
    program
      .command('ls')
      .description('list the files of a snapshot (one level; --recursive for everything below)')
      .argument('<snapshot>', 'SNAPSHOT[:PATH]: "latest" or an ID (prefix), optionally with a path in it')
      .argument('[dir...]', 'directories to list instead of PATH (as restic: ls SNAPSHOT DIR...)')
      .option('-l, --long', 'long format: mode, owner, group, size, mtime, path (-> target for symlinks)')
      .option('-R, --recursive', 'list everything below the given directories')
      .option('--human-readable', 'sizes as KiB/MiB/… in the long format'),
    'snapshots for "latest":',
  ).action(async (ref: string, dirs: string[], f: Flags) => {
    const c = ctx();
    const { snapshot: id, path } = parseRef(ref);
    if (path !== undefined && dirs.length > 0) throw new UsageError(`give the path either as ${id}:PATH or as separate arguments, not both`);
    const paths = path !== undefined ? [path] : dirs.length > 0 ? dirs : ['/'];
    await withBrowse(c, { catalog: false }, async (b) => {
      const snap = await b.snapshot(id, filterOf(f));
      const out = new LineWriter();
      const where = `snapshot ${snap.id.slice(0, 8)}`;
      if (c.out.json) await out.line(JSON.stringify(jsonSnapshot(snap)));
      else if (!c.out.quiet) await out.line(`${snapshotLabel(snap)}:`);
      // the shown path of each directory, computed once for all its entries
      const dirShown = new WeakMap<readonly Buffer[], string>();
      const shownDir = (parent: readonly Buffer[]): string => {
        let d = dirShown.get(parent);
        if (d === undefined) dirShown.set(parent, (d = showPath(parent)));
        return d;
      };
      const print = async (node: Node, parent: readonly Buffer[]): Promise<void> => {
        const fields = fieldsOfNode(node);
        if (c.out.json) await out.line(JSON.stringify(jsonNode(fields, [...parent, nodeNameBytes(node)], { struct_type: 'node', message_type: 'node' })));
        else {
          const path = `${shownDir(parent)}/${nodeDisplayName(node)}`;
          await out.line(f.long ? longLine(fields, path, { human: !!f.humanReadable }) : path);
        }
      };
      for (const p of paths) {
        const r = await resolvePath(b.store, snap.tree, p, where, c.signal);
        if (r.treeId === undefined) {
          // a file (or symlink, device, …): its own line, as ls prints a file argument
          if (r.node) await print(r.node, r.parts.slice(0, -1));
          continue;
        }
        for await (const l of walk(b.store, r.treeId, r.parts, { recursive: !!f.recursive, signal: c.signal })) await print(l.node, l.parent);
      }
      await out.flush();
    });
  });
}
