import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import type { ExcludeMatcher } from './excludes.ts';
import type { PathMap } from './path-map.ts';

/**
 * Counts files and bytes under the sources, applying the same exclusions, so progress can show a percentage and an
 * ETA. Runs beside the backup on async fs calls and stops as soon as the backup is done or aborted.
 */
export async function estimate(
  paths: readonly string[],
  excludes: ExcludeMatcher | undefined,
  o: { signal: AbortSignal; onTotals: (files: number, bytes: number, done: boolean) => void; pathMap?: PathMap | undefined },
): Promise<void> {
  let files = 0;
  let bytes = 0;
  let last = Date.now();
  const report = (done: boolean): void => o.onTotals(files, bytes, done);
  const m = excludes && !excludes.empty ? excludes : undefined;
  // `dir` is matched as recorded, `fsDir` is read (they differ with a PathMap)
  const walk = async (dir: Buffer, rules: ReturnType<ExcludeMatcher['rootRules']> | undefined, fsDir: Buffer): Promise<void> => {
    if (o.signal.aborted) return;
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(fsDir, { encoding: 'buffer', withFileTypes: true });
    } catch {
      return;
    }
    const names = entries.map((e) => e.name);
    const childRules = m ? await m.enterDir(dir, names, rules ?? m.rootRules(), fsDir) : undefined;
    const sizes = await Promise.all(entries.map((e) => (e.isFile() ? lstat(Buffer.concat([fsDir, SLASH, e.name])).then((st) => st.size, () => 0) : 0)));
    const subdirs: [Buffer, Buffer][] = [];
    entries.forEach((e, i) => {
      const p = Buffer.concat([dir, SLASH, e.name]);
      if (m && childRules && m.isExcluded(childRules, p, e.name, e.isDirectory(), sizes[i] ?? 0)) return;
      if (e.isDirectory()) subdirs.push([p, Buffer.concat([fsDir, SLASH, e.name])]);
      else {
        files++;
        bytes += sizes[i] ?? 0;
      }
    });
    if (Date.now() - last > 500) {
      last = Date.now();
      report(false);
    }
    for (const [d, fd] of subdirs) await walk(d, childRules, fd);
  };
  for (const p of paths) {
    const real = o.pathMap ? o.pathMap.real(p) : p;
    const st = await lstat(real).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) await walk(Buffer.from(p), undefined, Buffer.from(real));
    else files++;
    if (st.isFile()) bytes += st.size;
  }
  if (!o.signal.aborted) report(true);
}

const SLASH = Buffer.from('/');
