/**
 * restic's exclude pattern lists (`--exclude`, `--iexclude` and the pattern files), precompiled to a few regexes.
 *
 * Semantics (restic internal/filter):
 * - A pattern is `filepath.Clean`ed and split at `/` into components; each component uses Go `filepath.Match`
 *   syntax, and a component that is exactly `**` matches zero or more whole path components.
 * - A pattern starting with `/` is anchored: it must match from the root of the absolute path. Any other pattern may
 *   match starting at any component ("`*.o`", "`foo`" match a file or directory of that name anywhere).
 * - A match need not reach the end of the path: a pattern matching a directory also matches everything below it
 *   (`foo/bar` matches `/x/foo/bar/baz`). This matters for negations: `$HOME/**\/*` + `!$HOME/Documents` keeps all of
 *   Documents' contents.
 * - `!pattern` re-includes: the last pattern of the list that matches a path decides (plain: excluded, negated: not).
 * - Case-insensitive lists lower-case the patterns and the paths (Go `strings.ToLower` ~ JS `toLowerCase`).
 *
 * Paths are matched as UTF-8 strings; bytes that are not valid UTF-8 decode to U+FFFD, so such names only match
 * wildcards, never literal text.
 */
import { UsageError } from '../errors.ts';
import { compileGlobComponent, goClean } from './exclude-glob.ts';

export interface PatternSource {
  readonly pattern: string;
  /** Where the pattern came from, for error messages: "--exclude", "--exclude-file /etc/x:3". */
  readonly origin: string;
}

export interface PatternList {
  readonly count: number;
  /** True when the absolute path `path` (a clean absolute path, "/" separated) is excluded by the list. */
  matches(path: string): boolean;
}

interface Compiled {
  readonly negated: boolean;
  readonly source: string;
}

const ANY_COMPONENTS = '(?:/[^/]*)*';

/** Compiles one restic pattern; throws UsageError naming the pattern when it is malformed. */
export function compileResticPattern(raw: string, caseInsensitive: boolean, origin: string): Compiled {
  let s = caseInsensitive ? raw.toLowerCase() : raw;
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1);
  }
  const parts = goClean(s).split('/');
  let anchored = false;
  if (parts[0] === '') {
    anchored = true;
    parts.shift();
  }
  let src = anchored ? '^' : '';
  for (const part of parts) {
    // "" only occurs for the pattern "/" (Clean keeps it, the split yields ["", ""]); restic treats it as "**".
    if (part === '**' || part === '') {
      src += ANY_COMPONENTS;
      continue;
    }
    const c = compileGlobComponent(part);
    if ('error' in c) throw new UsageError(`${origin}: invalid pattern ${JSON.stringify(raw)}: ${c.error}`);
    src += `/${c.source}`;
  }
  src += '(?:/|$)';
  return { negated, source: src };
}

/**
 * Compiles a pattern list in order. Empty patterns are ignored (as restic does). Returns undefined when nothing is
 * left. Throws UsageError on the first malformed pattern.
 */
export function compilePatternList(sources: readonly PatternSource[], caseInsensitive: boolean): PatternList | undefined {
  const compiled: Compiled[] = [];
  for (const { pattern, origin } of sources) {
    if (pattern === '') continue;
    compiled.push(compileResticPattern(pattern, caseInsensitive, origin));
  }
  if (compiled.length === 0) return undefined;
  // Runs of same-polarity patterns become one alternation; evaluated last run first, the first run that matches decides.
  const groups: { negated: boolean; re: RegExp }[] = [];
  let run: Compiled[] = [];
  const flush = (): void => {
    const first = run[0];
    if (first === undefined) return;
    groups.push({ negated: first.negated, re: new RegExp(run.map((c) => `(?:${c.source})`).join('|'), 'u') });
    run = [];
  };
  for (const c of compiled) {
    if (run.length > 0 && run[0]?.negated !== c.negated) flush();
    run.push(c);
  }
  flush();
  groups.reverse();
  // A leading run of negations can never decide anything (nothing before it excludes): drop it.
  while (groups.length > 0 && groups[groups.length - 1]?.negated === true) groups.pop();
  return {
    count: compiled.length,
    matches(path: string): boolean {
      if (path === '/') return false; // restic never matches the root itself with unanchored patterns; keep "/" simple
      const p = caseInsensitive ? path.toLowerCase() : path;
      for (const g of groups) if (g.re.test(p)) return !g.negated;
      return false;
    },
  };
}
