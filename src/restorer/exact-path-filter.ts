import type { PathFilter } from './path-filter.ts';

/**
 * Selects exactly the given snapshot paths ("/home/ann/x.txt"), compared as strings — no pattern syntax, so names
 * with `*`, `?`, `[` or `{` need no escaping, and a test costs one set lookup however many paths there are.
 * Everything that is neither a listed path nor a directory above one is excluded, so the restorer does not descend
 * into subtrees that hold nothing selected.
 */
export function createExactPathFilter(paths: Iterable<string>): PathFilter {
  const selected = new Set<string>();
  const above = new Set<string>();
  for (const p of paths) {
    selected.add(p);
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const dir = p.slice(0, i);
      if (above.has(dir)) break;
      above.add(dir);
    }
  }
  return {
    hasIncludes: true,
    included: (p) => selected.has(p),
    excluded: (p) => !selected.has(p) && !above.has(p),
  };
}
