import picomatch from 'picomatch';
import { UsageError } from '../errors.ts';

/**
 * --include / --exclude for restore, on snapshot paths ("/home/ann/x.txt"). Patterns without a slash match any
 * component; patterns with one are anchored at the snapshot root. A match on a directory covers its contents.
 */
export interface PathFilter {
  /** excluded: skip it and everything below */
  excluded(path: string): boolean;
  /** selected by --include (always true without includes) */
  included(path: string): boolean;
  readonly hasIncludes: boolean;
}

function compile(patterns: readonly string[], nocase: boolean): ((path: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const tests = patterns.map((raw) => {
    const p = raw.replace(/\/+$/, '');
    if (p === '') throw new UsageError(`empty pattern ${JSON.stringify(raw)}`);
    try {
      const anchored = p.startsWith('/');
      const re = picomatch.makeRe(anchored ? p : `**/${p}`, { dot: true, nocase, strictSlashes: true });
      return (path: string): boolean => re.test(path);
    } catch (e) {
      throw new UsageError(`invalid pattern ${JSON.stringify(raw)}: ${(e as Error).message}`);
    }
  });
  return (path) => tests.some((t) => t(path));
}

export function createPathFilter(o: { include?: readonly string[]; exclude?: readonly string[]; iinclude?: readonly string[]; iexclude?: readonly string[] }): PathFilter {
  const inc = [compile(o.include ?? [], false), compile(o.iinclude ?? [], true)].filter((f) => f !== undefined);
  const exc = [compile(o.exclude ?? [], false), compile(o.iexclude ?? [], true)].filter((f) => f !== undefined);
  return {
    hasIncludes: inc.length > 0,
    excluded: (p) => exc.some((f) => f(p)),
    included: (p) => inc.length === 0 || inc.some((f) => f(p)),
  };
}
