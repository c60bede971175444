/**
 * Which change notifications are no reason to back up: paths the profile excludes by pattern (the backup applies
 * every exclude rule itself; this only avoids needless runs), and PyBackup's own files — a local repository, the
 * cache with its catalog, the state and log directory — which every backup changes: watching them would loop.
 */
import { basename, resolve } from 'node:path';
import type { ExcludeMatcher } from '../../archiver/excludes.ts';

export function ignoreFilter(o: { readonly excludes?: ExcludeMatcher | undefined; readonly ownDirs: readonly string[] }): (path: string) => boolean {
  const own = o.ownDirs.map((d) => resolve(d));
  const m = o.excludes && !o.excludes.empty ? o.excludes : undefined;
  const excluded = (p: string, isDir: boolean): boolean => !!m?.isExcluded(m.rootRules(), Buffer.from(p), Buffer.from(basename(p)), isDir, 0);
  return (path) => {
    if (own.some((d) => path === d || path.startsWith(`${d}/`))) return true;
    if (!m) return false;
    if (excluded(path, false)) return true;
    // inside an excluded directory
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) if (excluded(path.slice(0, i), true)) return true;
    return false;
  };
}
