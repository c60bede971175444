/**
 * Go `path/filepath.Match` syntax, compiled to JavaScript regular expressions, plus the few Go path helpers restic's
 * pattern handling relies on (`filepath.Clean`, `os.Expand`, the glob meta test).
 *
 * Syntax of one pattern component (Go, Unix flavour):
 *   `*`         any run of characters except `/` (dot files included: there is no leading-dot rule)
 *   `?`         one character (code point) except `/`
 *   `[...]`     a class: `[abc]`, ranges `[a-z]`, negated `[^a-z]`; `\` escapes inside; `!` is NOT a negation
 *   `\c`        the character c literally
 * Malformed: an unterminated or empty class, a class member starting with `-` or `]` unescaped, a trailing `\`.
 * Braces, extglobs and POSIX classes are not special (they are literal characters), unlike picomatch/minimatch; that
 * is why this is hand-written instead of configured picomatch.
 */

export type CompiledComponent = { readonly source: string } | { readonly error: string };

const WORD = /^[A-Za-z0-9_]$/;

function lit(ch: string): string {
  return WORD.test(ch) ? ch : `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`;
}

/**
 * Compiles one component of a Go `filepath.Match` pattern to a regex fragment (for a regex with the `u` flag) that
 * matches exactly what Go matches within one path component. Never matches `/`.
 */
export function compileGlobComponent(pattern: string): CompiledComponent {
  const cs = Array.from(pattern);
  const n = cs.length;
  let out = '';
  let i = 0;
  // Reads one possibly escaped class member (Go's getEsc). Returns undefined on a malformed class.
  const getEsc = (): string | undefined => {
    let c = cs[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') {
      i++;
      c = cs[i];
      if (c === undefined) return undefined;
    }
    i++;
    if (i >= n) return undefined; // class never closed
    return c;
  };
  while (i < n) {
    const c = cs[i] as string;
    if (c === '*') {
      while (cs[i] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      i++;
      let negated = false;
      if (cs[i] === '^') {
        negated = true;
        i++;
      }
      let ranges = '';
      let nrange = 0;
      for (;;) {
        if (cs[i] === ']' && nrange > 0) {
          i++;
          break;
        }
        const lo = getEsc();
        if (lo === undefined) return { error: 'malformed character class' };
        let hi = lo;
        if (cs[i] === '-') {
          i++;
          const h = getEsc();
          if (h === undefined) return { error: 'malformed character class' };
          hi = h;
        }
        nrange++;
        const loCp = lo.codePointAt(0) ?? 0;
        const hiCp = hi.codePointAt(0) ?? 0;
        if (loCp > hiCp) continue; // valid in Go, matches nothing (a JS regex would reject it)
        ranges += loCp === hiCp ? lit(lo) : `\\u{${loCp.toString(16)}}-\\u{${hiCp.toString(16)}}`;
      }
      if (negated) out += ranges === '' ? '[^/]' : `[^${ranges}/]`;
      else out += ranges === '' ? '[^\\s\\S]' : `(?:(?!/)[${ranges}])`;
    } else if (c === '\\') {
      i++;
      const e = cs[i];
      if (e === undefined) return { error: 'trailing backslash' };
      out += lit(e);
      i++;
    } else {
      out += lit(c);
      i++;
    }
  }
  return { source: out };
}

/** Go's `filepath.Match` syntax meta characters on Unix (a pattern without them is a plain path). */
export function hasGlobMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** Go's `filepath.Clean` (Unix): collapses `//`, drops `.`, resolves `..` lexically, no trailing slash, "" -> ".". */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const r = out.join('/');
  if (rooted) return `/${r}`;
  return r === '' ? '.' : r;
}

const isShellSpecial = (c: string | undefined): boolean => c !== undefined && '*#$@!?-0123456789'.includes(c);
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

/**
 * Go's `os.Expand` with restic's mapping: `$NAME` and `${NAME}` are replaced by the environment variable (empty when
 * unset), `$$` is a literal `$`. A `$` not followed by a name stays; malformed `${` / `${}` are dropped as Go does.
 */
export function expandEnv(s: string, env: NodeJS.ProcessEnv = process.env): string {
  const map = (name: string): string => (name === '$' ? '$' : (env[name] ?? ''));
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] !== '$' || j + 1 >= s.length) continue;
    out += s.slice(i, j);
    const rest = s.slice(j + 1);
    let name = '';
    let w = 0;
    if (rest[0] === '{') {
      if (rest.length > 2 && isShellSpecial(rest[1]) && rest[2] === '}') {
        name = rest.slice(1, 2);
        w = 3;
      } else {
        const close = rest.indexOf('}', 1);
        if (close === 1) w = 2;
        else if (close > 1) {
          name = rest.slice(1, close);
          w = close + 1;
        } else w = 1;
      }
    } else if (isShellSpecial(rest[0])) {
      name = rest.slice(0, 1);
      w = 1;
    } else {
      while (w < rest.length && isAlnum(rest[w])) w++;
      name = rest.slice(0, w);
    }
    if (name === '' && w > 0) {
      // invalid syntax: Go eats the characters
    } else if (name === '') out += '$';
    else out += map(name);
    j += w;
    i = j + 1;
  }
  return out + s.slice(i);
}
