/**
 * The exclusion rules of `pybackup backup`, with restic's semantics:
 *
 * - `--exclude` / `--iexclude` patterns and `--exclude-file` / `--iexclude-file` pattern files: see
 *   exclude-patterns.ts (Go filepath.Match per component, `**`, anchored `/...`, `!` re-includes, last match wins).
 *   Patterns from files are trimmed, `#` comment and blank lines skipped, `$VAR` / `${VAR}` expanded (`$$` is `$`);
 *   file patterns come after the command-line ones (order matters for `!`). Command-line patterns are taken as given
 *   (the shell expands variables there), as restic does. Case-sensitive and case-insensitive lists are independent:
 *   an entry is excluded when either list excludes it.
 * - `--exclude-caches`: same as `--exclude-if-present "CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55"`.
 * - `--exclude-if-present NAME[:HEADER]`: a directory containing NAME (whose content starts with HEADER when given)
 *   keeps only NAME itself: the directory is kept, every other entry in it is excluded. When two different tag files
 *   fire in one directory, each excludes the other (restic behaves the same). A tag file with the wrong header is not
 *   a tag; unreadable or too short ones produce a warning.
 * - `--exclude-larger-than`: non-directories larger than the limit are excluded.
 * - `--git-ignore` (PyBackup extension): a `.gitignore` in a scanned directory applies to that directory's subtree,
 *   with git semantics (via the `ignore` package, case-sensitive): negation, dir-only patterns (`build/`), anchoring
 *   relative to the .gitignore's directory; deeper files take precedence over shallower ones.
 *
 * Paths are matched as UTF-8 strings: non-UTF-8 bytes decode to U+FFFD, so such names only match wildcards.
 */
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { UsageError, errnoCode } from '../errors.ts';
import { NO_MATCH, compilePatternList } from './exclude-patterns.ts';
import type { PatternList, PatternSource } from './exclude-patterns.ts';
import { readPatternFile } from './exclude-text.ts';

export interface ExcludeOptions {
  /** --exclude (repeatable) */
  readonly patterns?: readonly string[];
  /** --iexclude */
  readonly insensitivePatterns?: readonly string[];
  /** --exclude-file paths (read them) */
  readonly excludeFiles?: readonly string[];
  /** --iexclude-file paths */
  readonly insensitiveExcludeFiles?: readonly string[];
  /** --exclude-caches */
  readonly excludeCaches?: boolean;
  /** --exclude-if-present NAME or NAME:HEADER */
  readonly excludeIfPresent?: readonly string[];
  /** --exclude-larger-than, in bytes (see parseSize) */
  readonly excludeLargerThan?: number;
  /** --git-ignore */
  readonly gitIgnore?: boolean;
  /** Receives non-fatal problems (unreadable tag file or .gitignore, ...). */
  readonly warn?: (message: string) => void;
  /** Environment for `$VAR` expansion in pattern files (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Opaque per-directory state; only the matcher that produced it can use it. */
export interface DirRules {
  readonly kind: 'dir-rules';
}

export interface ExcludeMatcher {
  /** Rules for the top level of a backup source path (absolute). */
  rootRules(): DirRules;
  /**
   * Called when the walker enters directory `dirAbs` with its entry names. Reads .gitignore / tag files as needed,
   * from `fsDir` when the directory is read from elsewhere than the path it is matched (and recorded) as.
   * Returns the rules for the children.
   */
  enterDir(dirAbs: Buffer, names: readonly Buffer[], parent: DirRules, fsDir?: Buffer): Promise<DirRules>;
  /** True if the entry `absPath` (a child of the dir with `rules`) is excluded. Synchronous and cheap. */
  isExcluded(rules: DirRules, absPath: Buffer, name: Buffer, isDir: boolean, size: number): boolean;
  /** True when no rule at all is active (walker may skip calls). */
  readonly empty: boolean;
}

export const CACHEDIR_TAG_NAME = 'CACHEDIR.TAG';
export const CACHEDIR_TAG_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

interface TagSpec {
  readonly name: Buffer;
  readonly header: Buffer | undefined;
}

/** One .gitignore, applying below the directory whose path (as matched) is `base` ("" for "/"). */
interface GitLevel {
  readonly ig: Ignore;
  /** Length of the base directory path plus the separator: `path.slice(prefixLen)` is the relative path. */
  readonly prefixLen: number;
  readonly parent: GitLevel | undefined;
}

interface RulesImpl extends DirRules {
  /** Rules of a top level (rootRules): the pattern indexes of the parent path are unknown, match whole paths. */
  readonly top: boolean;
  /** Per pattern list: the highest index of a pattern matching (a window of) this directory's path, or NO_MATCH. */
  readonly idx: readonly number[];
  readonly git: GitLevel | undefined;
  /** A tag file fired in this directory: every child except `keep` is excluded. */
  readonly tagged: boolean;
  readonly keep: Buffer | undefined;
}

const GITIGNORE = Buffer.from('.gitignore');
const ROOT_RULES: RulesImpl = { kind: 'dir-rules', top: true, idx: [], git: undefined, tagged: false, keep: undefined };

/** Parses `NAME[:HEADER]` (restic --exclude-if-present). */
export function parseTagSpec(spec: string): { name: string; header: string | undefined } {
  if (spec === '') throw new UsageError('--exclude-if-present: the tag file name is empty');
  const colon = spec.indexOf(':');
  if (colon === 0) throw new UsageError(`--exclude-if-present ${JSON.stringify(spec)}: no tag file name before ":"`);
  const name = colon > 0 ? spec.slice(0, colon) : spec;
  if (name.includes('/') || name === '.' || name === '..') {
    throw new UsageError(`--exclude-if-present ${JSON.stringify(spec)}: the tag file name must be a plain file name`);
  }
  return { name, header: colon > 0 ? spec.slice(colon + 1) : undefined };
}

/** A path as matched: one leading slash (the walker joins "/" + "/" + name), no trailing slash except for "/". */
function normPath(p: Buffer): string {
  let s = p.toString('utf8');
  if (s.startsWith('//')) s = s.replace(/^\/+/, '/');
  if (s.length > 1 && s.endsWith('/')) s = s.replace(/\/+$/, '');
  return s;
}

function joinChild(dirAbs: Buffer, name: Buffer): Buffer {
  return dirAbs.length > 0 && dirAbs[dirAbs.length - 1] === 0x2f
    ? Buffer.concat([dirAbs, name])
    : Buffer.concat([dirAbs, Buffer.from('/'), name]);
}

function show(p: Buffer): string {
  return JSON.stringify(p.toString('utf8'));
}

function describe(e: unknown): string {
  return errnoCode(e) ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Fresh `ignore` instances per directory: they share the compiled rules, but each has its own result cache, which
 * then only holds the entries of one directory instead of growing with the whole tree.
 */
function cloneChain(l: GitLevel | undefined): GitLevel | undefined {
  if (l === undefined) return undefined;
  return { ig: ignore({ ignorecase: false }).add(l.ig), prefixLen: l.prefixLen, parent: cloneChain(l.parent) };
}

/** Builds the matcher: reads and validates the pattern files, compiles all patterns. Throws UsageError / InvalidInputError. */
export async function createExcludeMatcher(o: ExcludeOptions): Promise<ExcludeMatcher> {
  const env = o.env ?? process.env;
  const warn = o.warn ?? ((): void => {});
  const sensitive: PatternSource[] = (o.patterns ?? []).map((pattern) => ({ pattern, origin: '--exclude' }));
  const insensitive: PatternSource[] = (o.insensitivePatterns ?? []).map((pattern) => ({ pattern, origin: '--iexclude' }));
  for (const f of o.excludeFiles ?? []) sensitive.push(...(await readPatternFile(f, '--exclude-file', env)));
  for (const f of o.insensitiveExcludeFiles ?? []) insensitive.push(...(await readPatternFile(f, '--iexclude-file', env)));
  const lists: PatternList[] = [];
  const cs = compilePatternList(sensitive, false);
  if (cs) lists.push(cs);
  const ci = compilePatternList(insensitive, true);
  if (ci) lists.push(ci);

  const tags: TagSpec[] = [];
  if (o.excludeCaches) tags.push({ name: Buffer.from(CACHEDIR_TAG_NAME), header: Buffer.from(CACHEDIR_TAG_SIGNATURE) });
  for (const spec of o.excludeIfPresent ?? []) {
    const { name, header } = parseTagSpec(spec);
    tags.push({ name: Buffer.from(name), header: header === undefined || header === '' ? undefined : Buffer.from(header) });
  }

  const limit = o.excludeLargerThan;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new UsageError(`--exclude-larger-than: invalid size ${String(limit)}`);
  }
  const gitIgnore = o.gitIgnore === true;
  const empty = lists.length === 0 && tags.length === 0 && limit === undefined && !gitIgnore;
  const perDir = tags.length > 0 || gitIgnore || lists.length > 0;

  async function tagFires(dirAbs: Buffer, t: TagSpec): Promise<boolean> {
    if (t.header === undefined) return true;
    const file = joinChild(dirAbs, t.name);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') warn(`could not open exclusion tagfile ${show(file)}: ${describe(e)}`);
      return false;
    }
    try {
      const buf = Buffer.alloc(t.header.length);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < buf.length) {
        warn(`invalid (too short) signature in exclusion tagfile ${show(file)}`);
        return false;
      }
      if (!buf.equals(t.header)) {
        warn(`invalid signature in exclusion tagfile ${show(file)}`);
        return false;
      }
      return true;
    } catch (e) {
      warn(`could not read signature from exclusion tagfile ${show(file)}: ${describe(e)}`);
      return false;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async function readGitignore(dirAbs: Buffer): Promise<string | undefined> {
    const file = joinChild(dirAbs, GITIGNORE);
    try {
      return (await readFile(file)).toString('utf8');
    } catch (e) {
      const code = errnoCode(e);
      if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ELOOP') warn(`could not read ${show(file)}: ${describe(e)}`);
      return undefined;
    }
  }

  return {
    empty,
    rootRules: () => ROOT_RULES,

    async enterDir(dirAbs: Buffer, names: readonly Buffer[], parent: DirRules, fsDir: Buffer = dirAbs): Promise<DirRules> {
      if (!perDir) return parent;
      const p = parent as RulesImpl;
      let tagged = false;
      let keep: Buffer | undefined;
      if (tags.length > 0) {
        for (const t of tags) {
          if (!names.some((n) => n.equals(t.name))) continue;
          if (!(await tagFires(fsDir, t))) continue;
          // Each firing tag spares only its own file: with two different ones, nothing is spared.
          keep = tagged && !(keep?.equals(t.name) ?? false) ? undefined : t.name;
          tagged = true;
        }
      }
      const dirStr = normPath(dirAbs);
      const dirName = dirStr.slice(dirStr.lastIndexOf('/') + 1);
      const getDir = (): string => dirStr;
      const idx = lists.map((l, k) =>
        dirName === '' ? NO_MATCH : p.top ? l.fullIndex(dirStr) : l.endIndex(p.idx[k] ?? NO_MATCH, Buffer.from(dirName), getDir),
      );
      let git = p.git;
      if (gitIgnore) {
        git = cloneChain(p.git);
        if (names.some((n) => n.equals(GITIGNORE))) {
          const text = await readGitignore(fsDir);
          if (text !== undefined && /^[ \t]*[^#\s]/m.test(text)) {
            git = { ig: ignore({ ignorecase: false }).add(text), prefixLen: (dirStr === '/' ? 0 : dirStr.length) + 1, parent: git };
          }
        }
      }
      const r: RulesImpl = { kind: 'dir-rules', top: false, idx, git, tagged, keep: tagged ? keep : undefined };
      return r;
    },

    isExcluded(rules: DirRules, absPath: Buffer, name: Buffer, isDir: boolean, size: number): boolean {
      const r = rules as RulesImpl;
      if (limit !== undefined && !isDir && size > limit) return true;
      if (r.tagged && !(r.keep !== undefined && name.equals(r.keep))) return true;
      if (lists.length === 0 && r.git === undefined) return false;
      let s: string | undefined;
      const getPath = (): string => (s ??= normPath(absPath));
      if (lists.length > 0) {
        for (let k = 0; k < lists.length; k++) {
          const l = lists[k] as PatternList;
          const i = r.top ? l.fullIndex(getPath()) : l.endIndex(r.idx[k] ?? NO_MATCH, name, getPath);
          if (i !== NO_MATCH && !l.isNegated(i)) return true;
        }
      }
      if (r.git === undefined) return false;
      const path = getPath();
      for (let g: GitLevel | undefined = r.git; g !== undefined; g = g.parent) {
        const rel = path.slice(g.prefixLen);
        if (rel === '') continue;
        const res = g.ig.test(isDir ? `${rel}/` : rel);
        if (res.ignored) return true;
        if (res.unignored) return false;
      }
      return false;
    },
  };
}
