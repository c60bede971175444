import picomatch from 'picomatch';
import { UsageError } from '../errors.ts';

/** Tests one node: its name and its full snapshot path ("/home/ann/x.txt"), both as (lossy) UTF-8 strings. */
export type NameMatcher = (name: string, path: string) => boolean;

/**
 * `find` patterns, as restic's find uses them: a pattern matches a node when it matches the node's name or its full
 * path. Globs use picomatch (dot files included); a glob without a leading "/" matches the path at any depth, one with
 * a leading "/" is anchored at the snapshot root. "re:REGEX" is a JavaScript regular expression searched for in the
 * name and in the path (anchor it with ^ and $). Several patterns: any of them.
 */
export function compilePatterns(patterns: readonly string[], o: { ignoreCase?: boolean } = {}): NameMatcher {
  if (patterns.length === 0) throw new UsageError('find needs at least one pattern');
  const tests = patterns.map((p) => compileOne(p, !!o.ignoreCase));
  if (tests.length === 1) return tests[0] as NameMatcher;
  return (name, path) => tests.some((t) => t(name, path));
}

function compileOne(pattern: string, nocase: boolean): NameMatcher {
  if (pattern.startsWith('re:')) {
    const src = pattern.slice(3);
    if (src === '') throw new UsageError(`empty regular expression in ${JSON.stringify(pattern)}`);
    let re: RegExp;
    try {
      re = new RegExp(src, nocase ? 'iu' : 'u');
    } catch (e) {
      throw new UsageError(`invalid regular expression ${JSON.stringify(src)}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
    return (name, path) => re.test(name) || re.test(path);
  }
  if (pattern === '') throw new UsageError('empty pattern');
  const p = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
  try {
    const opts = { dot: true, nocase, strictSlashes: true };
    const anchored = p.startsWith('/');
    const pathRe = picomatch.makeRe(anchored ? p : `**/${p}`, opts);
    if (p.includes('/')) return (_name, path) => pathRe.test(path);
    // without a slash only the name can match (the path's last component is the name)
    const nameRe = picomatch.makeRe(p, opts);
    return (name) => nameRe.test(name);
  } catch (e) {
    throw new UsageError(`invalid pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}
