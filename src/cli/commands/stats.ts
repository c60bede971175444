import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import type { Repository } from '../../repository/repository.ts';
import { listSnapshots, matchesFilter, resolveSnapshot } from '../../repository/snapshots.ts';
import { loadTree } from '../../restorer/tree-loader.ts';
import { type Context, withRepository } from '../context.ts';
import { formatBytes } from '../render/output.ts';
import { collect, reportUnreadableSnapshot } from './common.ts';

const MODES = ['restore-size', 'raw-data', 'all'];

export function registerStats(program: Command, ctx: () => Context): void {
  program
    .command('stats')
    .description('repository and snapshot statistics: restore size, raw data, compression and dedup ratios')
    .argument('[snapshots...]', 'snapshot IDs or "latest" (default: all)')
    .option('--mode <mode>', 'restore-size | raw-data | all', 'all')
    .option('-H, --host <host>', 'only this host', collect, [])
    .option('--tag <tags>', 'only these tags', collect, [])
    .option('--path <path>', 'only snapshots with this path', collect, [])
    .action(async (refs: string[], f: { mode: string; host: string[]; tag: string[]; path: string[] }) => {
      const c = ctx();
      if (!MODES.includes(f.mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
      await withRepository(c, { lock: 'shared' }, async (repo) => {
        const filter = { hosts: f.host, tags: f.tag, paths: f.path };
        const all = await listSnapshots(repo, { signal: c.signal, onError: reportUnreadableSnapshot(c) });
        const snaps = refs.length > 0 ? refs.map((r) => resolveSnapshot(all, r, filter)) : all.filter((s) => matchesFilter(s, filter));
        const st = await computeStats(repo, snaps, c.signal);
        const packs = repo.catalog.counts();
        if (c.out.json) {
          c.out.data(JSON.stringify({ snapshots_count: snaps.length, total_file_count: st.files, total_size: st.restoreSize, total_blob_count: st.blobs, total_uncompressed_size: st.rawSize, total_stored_size: st.storedSize, compression_ratio: ratio(st.rawSize, st.storedSize), dedup_ratio: ratio(st.restoreSize, st.rawDataSize), packs: packs.packs }));
          return;
        }
        c.out.data(`Snapshots processed:   ${snaps.length}`);
        if (f.mode !== 'raw-data') {
          c.out.data(`Restore size:          ${formatBytes(st.restoreSize)} in ${st.files} files`);
        }
        if (f.mode !== 'restore-size') {
          c.out.data(`Raw data:              ${formatBytes(st.rawSize)} in ${st.blobs} blobs (${formatBytes(st.storedSize)} stored)`);
          c.out.data(`Compression ratio:     ${ratio(st.rawSize, st.storedSize).toFixed(2)}x`);
        }
        if (f.mode === 'all') c.out.data(`Deduplication ratio:   ${ratio(st.restoreSize, st.rawDataSize).toFixed(2)}x`);
      });
    });
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 1;
}

/** Walks the snapshots' trees once per distinct tree (memoized) and sums sizes; blob sizes come from the catalog. */
async function computeStats(repo: Repository, snaps: readonly SnapshotWithId[], signal: AbortSignal): Promise<{ files: number; restoreSize: number; blobs: number; rawSize: number; rawDataSize: number; storedSize: number }> {
  const totals = new Map<string, { files: number; bytes: number }>();
  const blobs = new Set<string>();
  const walk = async (id: string): Promise<{ files: number; bytes: number }> => {
    const known = totals.get(id);
    if (known) return known;
    blobs.add(id);
    const t = await loadTree(repo, id, signal);
    let files = 0;
    let bytes = 0;
    for (const n of t.nodes) {
      if (n.type === 'dir' && n.subtree) {
        const s = await walk(n.subtree);
        files += s.files;
        bytes += s.bytes;
      } else {
        files++;
        bytes += n.size ?? 0;
        for (const b of n.content ?? []) blobs.add(b);
      }
    }
    const r = { files, bytes };
    totals.set(id, r);
    return r;
  };
  let files = 0;
  let restoreSize = 0;
  for (const s of snaps) {
    const r = await walk(s.tree);
    files += r.files;
    restoreSize += r.bytes;
  }
  let rawSize = 0;
  let rawDataSize = 0;
  let storedSize = 0;
  for (const hex of blobs) {
    const loc = repo.lookupBlob(Buffer.from(hex, 'hex'));
    if (!loc) continue;
    rawSize += loc.rawLength;
    if (loc.type === 'data') rawDataSize += loc.rawLength;
    storedSize += loc.length;
  }
  return { files, restoreSize, blobs: blobs.size, rawSize, rawDataSize, storedSize };
}
