/**
 * Where each key and value of a TOML document is, so that errors found after parsing (schema errors: an unknown key,
 * a wrong type) can point to a line and column. smol-toml returns plain objects without positions; this scanner
 * walks the source once more, following table headers (`[a.b]`, `[[a.b]]`), dotted keys, inline tables and arrays,
 * and records the first position of every key path. It assumes a document that smol-toml has already accepted.
 */

/** A key path as in the parsed value: table keys, and array indexes for array elements and `[[tables]]`. */
export type KeyPath = readonly (string | number)[];

export interface Position {
  /** 1-based line and column (columns count UTF-16 code units, as editors mostly do) */
  readonly line: number;
  readonly column: number;
}

export interface Located {
  /** where the key is written (for an array element: where the element starts) */
  readonly key: Position;
  /** where its value starts, when it is written as `key = value` or as an array element */
  readonly value?: Position;
}

export class TomlPositions {
  readonly #map = new Map<string, Located>();

  /** @internal used by the scanner */
  set(path: KeyPath, key: Position, value?: Position): void {
    const k = JSON.stringify(path);
    const old = this.#map.get(k);
    if (old === undefined) this.#map.set(k, value ? { key, value } : { key });
    else if (value && !old.value) this.#map.set(k, { key: old.key, value });
  }

  get(path: KeyPath): Located | undefined {
    return this.#map.get(JSON.stringify(path));
  }

  /**
   * The best place to point at for `path`: its value (when `prefer` is 'value') or key; for a path that is not
   * written in the file (a missing key), the closest ancestor that is. Undefined only for the document root.
   */
  locate(path: KeyPath, prefer: 'key' | 'value' = 'key'): Position | undefined {
    for (let n = path.length; n > 0; n--) {
      const l = this.get(path.slice(0, n));
      if (l) return n === path.length && prefer === 'value' ? (l.value ?? l.key) : l.key;
    }
    return undefined;
  }

  get size(): number {
    return this.#map.size;
  }
}

const BARE = /[A-Za-z0-9_-]/;
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };

function unescapeBasic(s: string): string {
  return s.replaceAll(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
    e.length > 1 ? String.fromCodePoint(Number.parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e),
  );
}

/** Scans `source` (valid TOML) and returns the positions of its keys and values. */
export function scanPositions(source: string): TomlPositions {
  const out = new TomlPositions();
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const posAt = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
  };
  const arrayTables = new Map<string, number>();
  let i = 0;
  const at = (s: string): boolean => source.startsWith(s, i);
  const skipSpace = (newlines: boolean): void => {
    while (i < source.length) {
      const c = source[i] as string;
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) i++;
      else if (c === '#') while (i < source.length && source[i] !== '\n') i++;
      else break;
    }
  };
  const skipTo = (close: string, escapes: boolean): void => {
    while (i < source.length && !at(close)) i += escapes && source[i] === '\\' ? 2 : 1;
    i += close.length;
  };
  /** A possibly dotted key; returns its parts and the start offset of each. */
  const readKey = (): { parts: string[]; starts: number[] } => {
    const parts: string[] = [];
    const starts: number[] = [];
    for (;;) {
      skipSpace(false);
      starts.push(i);
      const q = source[i];
      if (q === '"') {
        const from = ++i;
        skipTo('"', true);
        parts.push(unescapeBasic(source.slice(from, i - 1)));
      } else if (q === "'") {
        const from = ++i;
        skipTo("'", false);
        parts.push(source.slice(from, i - 1));
      } else {
        const from = i;
        while (i < source.length && BARE.test(source[i] as string)) i++;
        parts.push(source.slice(from, i));
      }
      skipSpace(false);
      if (source[i] !== '.') return { parts, starts };
      i++;
    }
  };
  const recordKey = (base: KeyPath, key: { parts: string[]; starts: number[] }): (string | number)[] => {
    const path = [...base];
    key.parts.forEach((p, k) => {
      path.push(p);
      out.set(path, posAt(key.starts[k] as number));
    });
    return path;
  };
  const readValue = (path: KeyPath): void => {
    out.set(path, posAt(i), posAt(i));
    if (at('"""') || at("'''")) {
      const q = source.slice(i, i + 3);
      i += 3;
      skipTo(q, q === '"""');
      while (source[i] === q[0]) i++; // up to two quotes may end the content right before the delimiter
    } else if (at('"')) {
      i++;
      skipTo('"', true);
    } else if (at("'")) {
      i++;
      skipTo("'", false);
    } else if (at('[')) {
      i++;
      for (let n = 0; ; n++) {
        skipSpace(true);
        if (i >= source.length || source[i] === ']') break;
        out.set([...path, n], posAt(i));
        readValue([...path, n]);
        skipSpace(true);
        if (source[i] === ',') i++;
      }
      i++;
    } else if (at('{')) {
      i++;
      for (;;) {
        skipSpace(true);
        if (i >= source.length || source[i] === '}') break;
        const key = recordKey(path, readKey());
        i++; // '='
        skipSpace(false);
        readValue(key);
        skipSpace(true);
        if (source[i] === ',') i++;
      }
      i++;
    } else {
      // numbers, booleans, dates (a date-time may contain one space): up to a separator
      while (i < source.length && !/[,\]}#\n]/.test(source[i] as string)) i++;
    }
  };

  let table: KeyPath = [];
  while (i < source.length) {
    skipSpace(true);
    if (i >= source.length) break;
    if (source[i] === '[') {
      const isArray = at('[[');
      i += isArray ? 2 : 1;
      skipSpace(false);
      const start = posAt(i);
      const path = recordKey([], readKey());
      i += isArray ? 2 : 1;
      if (isArray) {
        const k = JSON.stringify(path);
        const n = (arrayTables.get(k) ?? -1) + 1;
        arrayTables.set(k, n);
        path.push(n);
        out.set(path, start);
      }
      table = path;
      continue;
    }
    const key = recordKey(table, readKey());
    i++; // '='
    skipSpace(false);
    readValue(key);
  }
  return out;
}
