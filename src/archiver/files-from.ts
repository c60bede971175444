/**
 * --files-from, --files-from-verbatim, --files-from-raw (restic semantics):
 *
 * - 'lines': one entry per line; each line is trimmed, blank lines and lines starting with `#` are skipped, and every
 *   line is a glob expanded like Go's `filepath.Glob` (`*` `?` `[...]` `\`; `*` matches dot files; no `**`, no
 *   braces). A line without glob meta characters is kept when the path exists (lstat). A line matching nothing is
 *   skipped with a warning. A malformed glob is a UsageError naming file and line.
 * - 'verbatim': one entry per line, taken as is (not trimmed, no comments, no globbing); only empty lines skipped.
 * - 'raw': entries terminated by NUL bytes (as `find -print0` writes); the final NUL is required, empty entries are
 *   invalid.
 *
 * Lines end at "\n" (a "\r" before it is dropped). Files may carry a UTF-8 BOM or be UTF-16 with a BOM. The path "-"
 * reads standard input. A missing or unreadable file, invalid UTF-8 or NUL bytes in a line-based file are
 * InvalidInputErrors. Entries are returned as strings, so names that are not valid UTF-8 cannot be represented: such
 * entries in a raw list are an InvalidInputError, such glob matches are skipped with a warning.
 *
 * fs.glob (node:fs/promises) is not used: its minimatch-style syntax differs from Go's (it skips dot files for `*`,
 * expands braces, treats an unterminated `[` as literal), which would silently drop files restic backs up.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { InvalidInputError, UsageError } from '../errors.ts';
import { compileGlobComponent, goClean, hasGlobMeta } from './exclude-glob.ts';
import { decodeTextFile, readInputFile, splitLines } from './exclude-text.ts';

export type FilesFromMode = 'lines' | 'verbatim' | 'raw';

export interface FilesFromOptions {
  /** Receives non-fatal problems (a glob matching nothing, an unrepresentable name). */
  readonly warn?: (message: string) => void;
  /** Standard input for the path "-" (default process.stdin). */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

const FLAG: Readonly<Record<FilesFromMode, string>> = {
  lines: '--files-from',
  verbatim: '--files-from-verbatim',
  raw: '--files-from-raw',
};

/** Reads the list of paths to back up from `path` ("-" for stdin). */
export async function readFilesFrom(path: string, mode: FilesFromMode, options: FilesFromOptions = {}): Promise<string[]> {
  const flag = FLAG[mode];
  const warn = options.warn ?? ((): void => {});
  const data = await readInputFile(path, flag, path === '-' ? (options.stdin ?? process.stdin) : undefined);
  const what = `${flag} ${path}`;
  if (mode === 'raw') return splitRaw(data, what);
  const lines = splitLines(decodeTextFile(data, what));
  if (mode === 'verbatim') return lines.filter((l) => l !== '');
  const out: string[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const found = await goGlob(line, `${what}:${i + 1}`, warn);
    if (found.length === 0) warn(`${what}:${i + 1}: pattern ${JSON.stringify(line)} does not match any files, skipping`);
    out.push(...found);
  }
  return out;
}

function splitRaw(data: Buffer, what: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(0, start);
    if (end < 0) throw new InvalidInputError(`${what}: trailing NUL byte missing after the last entry`);
    if (end === start) throw new InvalidInputError(`${what}: empty file name in entry ${out.length + 1}`);
    const name = data.subarray(start, end);
    if (!isUtf8(name)) {
      throw new InvalidInputError(`${what}: entry ${out.length + 1} is not valid UTF-8 (non-UTF-8 names are not supported here)`);
    }
    out.push(name.toString('utf8'));
    start = end + 1;
  }
  return out;
}

function compileName(pattern: string, origin: string): RegExp {
  const c = compileGlobComponent(pattern);
  if ('error' in c) throw new UsageError(`${origin}: invalid pattern ${JSON.stringify(pattern)}: ${c.error}`);
  return new RegExp(`^${c.source}$`, 'u');
}

/** Go's `filepath.Glob` (Unix). Results are sorted per directory, joined and cleaned as Go does. */
export async function goGlob(pattern: string, origin: string, warn: (message: string) => void = () => {}): Promise<string[]> {
  compileName(pattern, origin); // Go validates the whole pattern first
  if (!hasGlobMeta(pattern)) {
    try {
      await lstat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const slash = pattern.lastIndexOf('/');
  let dir = pattern.slice(0, slash + 1);
  const file = pattern.slice(slash + 1);
  dir = dir === '' ? '.' : dir === '/' ? dir : dir.slice(0, -1);
  if (!hasGlobMeta(dir)) return globDir(dir, compileName(file, origin), [], warn);
  const out: string[] = [];
  for (const d of await goGlob(dir, origin, warn)) await globDir(d, compileName(file, origin), out, warn);
  return out;
}

async function globDir(dir: string, re: RegExp, out: string[], warn: (message: string) => void): Promise<string[]> {
  let names: Buffer[];
  try {
    if (!(await stat(dir)).isDirectory()) return out;
    names = await readdir(dir, { encoding: 'buffer' });
  } catch {
    return out; // Go ignores I/O errors here
  }
  names.sort(Buffer.compare);
  for (const n of names) {
    const s = n.toString('utf8');
    if (!re.test(s)) continue;
    if (!isUtf8(n)) {
      warn(`skipping ${JSON.stringify(`${dir}/${s}`)}: its name is not valid UTF-8`);
      continue;
    }
    out.push(goClean(`${dir}/${s}`));
  }
  return out;
}
