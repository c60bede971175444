/**
 * Reading the text files behind --exclude-file / --iexclude-file / --files-from, as restic's `textfile.Read` does: a
 * UTF-8 byte order mark is stripped, UTF-16 with a BOM is converted; anything else must be UTF-8. Garbled input
 * (invalid UTF-8, NUL bytes) is an InvalidInputError naming the file and line.
 */
import { readFile } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { InvalidInputError, errnoCode } from '../errors.ts';
import { expandEnv } from './exclude-glob.ts';
import type { PatternSource } from './exclude-patterns.ts';

/** Reads a whole file (or `stdin` for "-" when it is given), mapping failures to one-line InvalidInputErrors. */
export async function readInputFile(path: string, what: string, stdin?: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  if (path === '-' && stdin !== undefined) {
    const chunks: Buffer[] = [];
    try {
      for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    } catch (e) {
      throw new InvalidInputError(`${what} -: cannot read standard input: ${describe(e)}`, { cause: e });
    }
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (e) {
    const code = errnoCode(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : describe(e);
    throw new InvalidInputError(`${what} ${path}: cannot read: ${why}`, { cause: e });
  }
}

function describe(e: unknown): string {
  return errnoCode(e) ?? (e instanceof Error ? e.message : String(e));
}

/** 1-based line number of the first line of `data` that is not valid UTF-8, or 0 when all are. */
function firstBadLine(data: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl;
    if (!isUtf8(data.subarray(start, end))) return line;
    if (nl < 0) return 0;
    start = nl + 1;
    line++;
  }
}

/** Decodes a text file to a string (BOM handling as restic's textfile.Read); throws InvalidInputError on garbage. */
export function decodeTextFile(data: Buffer, what: string): string {
  let text: string;
  if (data.length >= 2 && ((data[0] === 0xfe && data[1] === 0xff) || (data[0] === 0xff && data[1] === 0xfe))) {
    const enc = data[0] === 0xfe ? 'utf-16be' : 'utf-16le';
    try {
      text = new TextDecoder(enc, { fatal: true }).decode(data.subarray(2));
    } catch {
      throw new InvalidInputError(`${what}: garbled UTF-16 text`);
    }
  } else {
    const body = data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? data.subarray(3) : data;
    if (!isUtf8(body)) throw new InvalidInputError(`${what}: line ${firstBadLine(body)} is not valid UTF-8 text`);
    text = body.toString('utf8');
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new InvalidInputError(`${what}: line ${line} contains a NUL byte (binary file?)`);
  }
  return text;
}

/** Splits text into lines as Go's bufio.ScanLines does: at "\n", dropping one trailing "\r"; no final empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/**
 * Reads restic exclude patterns from a file: each line is trimmed, blank lines and lines starting with `#` are
 * skipped, then environment variables are expanded (`$HOME`, `${HOME}`; `$$` for a literal `$`).
 */
export async function readPatternFile(path: string, flag: string, env: NodeJS.ProcessEnv = process.env): Promise<PatternSource[]> {
  const text = decodeTextFile(await readInputFile(path, flag), `${flag} ${path}`);
  const out: PatternSource[] = [];
  splitLines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push({ pattern: expandEnv(line, env), origin: `${flag} ${path}:${i + 1}` });
  });
  return out;
}
