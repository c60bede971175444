import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import type { ExcludeMatcher } from './excludes.ts';

/**
 * Counts files and bytes under the sources, applying the same exclusions, so progress can show a percentage and an
 * ETA. Runs beside the backup on async fs calls and stops as soon as the backup is done or aborted.
 */
export async function estimate(
  paths: readonly string[],
  excludes: ExcludeMatcher | undefined,
  o: { signal: AbortSignal; onTotals: (files: number, bytes: number, done: boolean) => void },
): Promise<void> {
  let files = 0;
  let bytes = 0;
  let last = Date.now();
  const report = (done: boolean): void => o.onTotals(files, bytes, done);
  const m = excludes && !excludes.empty ? excludes : undefined;
  const walk = async (dir: Buffer, rules: ReturnType<ExcludeMatcher['rootRules']> | undefined): Promise<void> => {
    if (o.signal.aborted) return;
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(dir, { encoding: 'buffer', withFileTypes: true });
    } catch {
      return;
    }
    const names = entries.map((e) => e.name);
    const childRules = m ? await m.enterDir(dir, names, rules ?? m.rootRules()) : undefined;
    const sizes = await Promise.all(entries.map((e) => (e.isFile() ? lstat(Buffer.concat([dir, SLASH, e.name])).then((st) => st.size, () => 0) : 0)));
    const subdirs: Buffer[] = [];
    entries.forEach((e, i) => {
      const p = Buffer.concat([dir, SLASH, e.name]);
      if (m && childRules && m.isExcluded(childRules, p, e.name, e.isDirectory(), sizes[i] ?? 0)) return;
      if (e.isDirectory()) subdirs.push(p);
      else {
        files++;
        bytes += sizes[i] ?? 0;
      }
    });
    if (Date.now() - last > 500) {
      last = Date.now();
      report(false);
    }
    for (const d of subdirs) await walk(d, childRules);
  };
  for (const p of paths) {
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await walk(Buffer.from(p), undefined);
    else files++;
    if (st.isFile()) bytes += st.size;
  }
  if (!o.signal.aborted) report(true);
}

const SLASH = Buffer.from('/');
