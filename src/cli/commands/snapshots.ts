import type { Command } from 'commander';
import { listSnapshots, matchesFilter } from '../../repository/snapshots.ts';
import { type Context, withRepository } from '../context.ts';
import { UsageError } from '../../errors.ts';
import { table } from '../render/output.ts';
import { collect } from './common.ts';

interface Flags {
  host: string[];
  tag: string[];
  path: string[];
  latest?: string;
}

export function registerSnapshots(program: Command, ctx: () => Context): void {
  program
    .command('snapshots')
    .description('list snapshots')
    .option('-H, --host <host>', 'only snapshots of this host (repeatable)', collect, [])
    .option('--tag <tags>', 'only snapshots with these tags (a,b = both; repeatable = either)', collect, [])
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect, [])
    .option('--latest <n>', 'only the last n snapshots')
    .action(async (f: Flags) => {
      const c = ctx();
      await withRepository(c, { lock: 'shared' }, async (repo) => {
        let list = (await listSnapshots(repo, { signal: c.signal, onError: (n, e) => c.out.warn(`error: snapshot ${n}: ${(e as Error).message}`) })).filter((s) =>
          matchesFilter(s, { hosts: f.host, tags: f.tag, paths: f.path }),
        );
        if (f.latest !== undefined) {
          const n = Number(f.latest);
          if (!/^\d+$/.test(f.latest.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--latest needs a whole number, got ${JSON.stringify(f.latest)}`);
          list = list.slice(Math.max(0, list.length - n));
        }
        if (c.out.json) {
          c.out.data(JSON.stringify(list.map((s) => ({ ...s, short_id: s.id.slice(0, 8) }))));
          return;
        }
        const rows = list.map((s) => [s.id.slice(0, 8), localTime(s.time), s.hostname, (s.tags ?? []).join(','), s.paths.join(', ')]);
        c.out.data(table(['ID', 'Time', 'Host', 'Tags', 'Paths'], rows));
        c.out.data(`${list.length} snapshots`);
      });
    });
}

function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
