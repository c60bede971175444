/**
 * restic's exclude pattern lists (`--exclude`, `--iexclude` and the pattern files), precompiled.
 *
 * Semantics (restic internal/filter):
 * - A pattern is `filepath.Clean`ed and split at `/` into components; each component uses Go `filepath.Match`
 *   syntax, and a component that is exactly `**` matches zero or more whole path components.
 * - A pattern starting with `/` is anchored: it must match from the root of the absolute path. Any other pattern may
 *   match starting at any component ("`*.o`", "`foo`" match a file or directory of that name anywhere).
 * - A match need not reach the end of the path (it matches a "window" of consecutive components): a pattern matching
 *   a directory also matches everything below it (`foo/bar` matches `/x/foo/bar/baz`). This matters for negations:
 *   `$HOME/**\/*` + `!$HOME/Documents` keeps all of Documents' contents.
 * - `!pattern` re-includes: the last pattern of the list that matches a path decides (plain: excluded, negated: not).
 * - Case-insensitive lists lower-case the patterns and the paths (Go `strings.ToLower` ~ JS `toLowerCase`).
 * - PyBackup extension (Borg's `re:` style): `re:REGEX` is a JavaScript regular expression (`u` flag, `i` in
 *   case-insensitive lists) searched in the absolute path: `re:\.(tmp|bak)$`, `re:^/home/[^/]+/\.cache$`. A match
 *   on a directory covers what is below it, like any pattern; `!re:...` re-includes.
 *
 * Speed: the decision for a path is "the highest-index pattern matching any window". The windows of `/a/b/c` are
 * those of `/a/b` plus those ending at `c`, so a walker keeps the index found for the directory (`fullIndex` once at
 * the top, `endIndex` for each subdirectory) and per entry only asks `endIndex`, which first looks the entry name up
 * by the pattern's last component (a reversed trie of literal names and `*suffix`es walked over the name's bytes, one
 * alternation for the other wildcards) and only runs the
 * path regex of the few patterns whose last component matches the name.
 *
 * Paths are matched as UTF-8 strings; bytes that are not valid UTF-8 decode to U+FFFD, so such names only match
 * wildcards, never literal text.
 */
import { UsageError } from '../errors.ts';
import { compileGlobComponent, goClean, hasGlobMeta } from './exclude-glob.ts';

export interface PatternSource {
  readonly pattern: string;
  /** Where the pattern came from, for error messages: "--exclude", "--exclude-file /etc/x:3". */
  readonly origin: string;
}

/** No pattern matched. */
export const NO_MATCH = -1;

export interface PatternList {
  readonly count: number;
  readonly caseInsensitive: boolean;
  /** True when pattern `index` is a `!` pattern. */
  isNegated(index: number): boolean;
  /** Highest index of a pattern matching any window of the absolute path, or NO_MATCH. Slow-ish: once per top dir. */
  fullIndex(path: string): number;
  /**
   * max(`above`, highest index of a pattern matching a window that ends at the last component `name` of `path`).
   * `path()` is only called when some pattern's last component matches `name`. For case-insensitive lists the
   * caller passes `name` and `path()` as they are; lowering happens here.
   */
  endIndex(above: number, name: Buffer, path: () => string): number;
  /** Convenience (tests, one-off checks): is the absolute path excluded by this list? */
  matches(path: string): boolean;
}

interface Compiled {
  readonly negated: boolean;
  /** a `re:` pattern: `endSource` is the user's expression, searched in the whole path */
  readonly regex?: boolean;
  /** Matches when some window matches (unanchored search). */
  readonly fullSource: string;
  /** Matches when a window ending at the last component matches. */
  readonly endSource: string;
  /** The last component, "**" when it is a recursive wildcard. */
  readonly last: string;
  readonly lastSource: string;
}

const ANY_COMPONENTS = '(?:/[^/]*)*';

/** Compiles one restic pattern; throws UsageError naming the pattern when it is malformed. */
export function compileResticPattern(raw: string, caseInsensitive: boolean, origin: string): Compiled {
  const re = /^(!?)re:/.exec(raw);
  if (re) {
    const source = raw.slice(re[0].length);
    if (source === '') throw new UsageError(`${origin}: invalid pattern ${JSON.stringify(raw)}: empty regular expression`);
    let valid: RegExp;
    try {
      valid = new RegExp(source, 'u');
    } catch (e) {
      throw new UsageError(`${origin}: invalid pattern ${JSON.stringify(raw)}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
    return { negated: re[1] === '!', regex: true, fullSource: valid.source, endSource: valid.source, last: '**', lastSource: '' };
  }
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
  let body = anchored ? '^' : '';
  let last = '**';
  let lastSource = '';
  for (const part of parts) {
    // "" only occurs for the pattern "/" (Clean keeps it, the split yields ["", ""]); restic treats it as "**".
    if (part === '**' || part === '') {
      body += ANY_COMPONENTS;
      last = '**';
      continue;
    }
    const c = compileGlobComponent(part);
    if ('error' in c) throw new UsageError(`${origin}: invalid pattern ${JSON.stringify(raw)}: ${c.error}`);
    body += `/${c.source}`;
    last = part;
    lastSource = c.source;
  }
  return { negated, fullSource: `${body}(?:/|$)`, endSource: `${body}$`, last, lastSource };
}

const STAR_SUFFIX = /^\*+([^*?[\\]+)$/;

/** "/a/b/c" -> ["/a", "/a/b", "/a/b/c"] */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  out.push(path);
  return out;
}

/** A trie over the reversed units (UTF-8 bytes, or UTF-16 code units for case-insensitive lists) of names. */
interface TrieNode {
  next: Map<number, TrieNode> | undefined;
  /** Patterns whose last component is `*` + the units consumed so far. */
  suffix: number[] | undefined;
  /** Patterns whose last component is exactly the units consumed so far. */
  exact: number[] | undefined;
}

const newNode = (): TrieNode => ({ next: undefined, suffix: undefined, exact: undefined });

function trieAdd(root: TrieNode, units: ArrayLike<number>, kind: 'suffix' | 'exact', index: number): void {
  let node = root;
  for (let k = units.length - 1; k >= 0; k--) {
    const u = units[k] as number;
    node.next ??= new Map();
    let child = node.next.get(u);
    if (!child) node.next.set(u, (child = newNode()));
    node = child;
  }
  (node[kind] ??= []).push(index);
}

function codeUnits(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
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

  const negated = compiled.map((c) => c.negated);
  const flags = (c: Compiled): string => (c.regex && caseInsensitive ? 'iu' : 'u');
  const endRe = compiled.map((c) => new RegExp(c.endSource, flags(c)));
  let fullRe: RegExp[] | undefined;
  // Name filters by last component: literal names and `*suffix` in a reversed trie, the rest by regex, `**` always.
  const trie = newNode();
  const always: number[] = [];
  const byRegex: { re: RegExp; index: number }[] = [];
  const units = (s: string): ArrayLike<number> => (caseInsensitive ? codeUnits(s) : Buffer.from(s, 'utf8'));
  compiled.forEach((c, i) => {
    if (c.last === '**') always.push(i);
    else if (!hasGlobMeta(c.last)) trieAdd(trie, units(c.last), 'exact', i);
    else {
      const suf = STAR_SUFFIX.exec(c.last)?.[1];
      if (suf !== undefined) trieAdd(trie, units(suf), 'suffix', i);
      else byRegex.push({ re: new RegExp(`^${c.lastSource}$`, 'u'), index: i });
    }
  });
  const anyRegex = byRegex.length > 1 ? new RegExp(byRegex.map((r) => `(?:${r.re.source})`).join('|'), 'u') : undefined;

  function fullIndex(path: string): number {
    if (path === '/') return NO_MATCH; // restic's unanchored patterns never match the bare root
    const p = caseInsensitive ? path.toLowerCase() : path;
    fullRe ??= compiled.map((c) => new RegExp(c.fullSource, flags(c)));
    for (let i = fullRe.length - 1; i >= 0; i--) {
      const r = fullRe[i] as RegExp;
      // a `re:` pattern matches a path when it matches the path or one of its parent directories
      if (compiled[i]?.regex ? ancestors(path).some((a) => r.test(a)) : r.test(p)) return i;
    }
    return NO_MATCH;
  }

  function endIndex(above: number, name: Buffer, path: () => string): number {
    let best = above;
    let p: string | undefined;
    /** Tests the candidates `hits` (ascending) above `best`, highest first; the first match is the best of them. */
    const check = (hits: readonly number[] | undefined): void => {
      if (hits === undefined) return;
      for (let k = hits.length - 1; k >= 0; k--) {
        const i = hits[k] as number;
        if (i <= best) return;
        p ??= caseInsensitive ? path().toLowerCase() : path();
        if (endRe[i]?.test(p)) {
          best = i;
          return;
        }
      }
    };
    let nameStr: string | undefined;
    let node: TrieNode | undefined = trie;
    if (caseInsensitive) {
      nameStr = name.toString('utf8').toLowerCase();
      for (let k = nameStr.length - 1; k >= 0 && node !== undefined; k--) {
        node = node.next?.get(nameStr.charCodeAt(k));
        if (node === undefined) break;
        check(node.suffix);
        if (k === 0) check(node.exact);
      }
    } else {
      for (let k = name.length - 1; k >= 0 && node !== undefined; k--) {
        node = node.next?.get(name[k] as number);
        if (node === undefined) break;
        check(node.suffix);
        if (k === 0) check(node.exact);
      }
    }
    if (byRegex.length > 0) {
      nameStr ??= name.toString('utf8');
      if (anyRegex === undefined || anyRegex.test(nameStr)) {
        for (let k = byRegex.length - 1; k >= 0; k--) {
          const r = byRegex[k];
          if (r && r.index > best && r.re.test(nameStr)) check([r.index]);
        }
      }
    }
    check(always);
    return best;
  }

  return {
    count: compiled.length,
    caseInsensitive,
    isNegated: (i) => negated[i] === true,
    fullIndex,
    endIndex,
    matches(path: string): boolean {
      const i = fullIndex(path);
      return i !== NO_MATCH && !negated[i];
    },
  };
}
