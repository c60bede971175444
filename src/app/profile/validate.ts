/**
 * A small schema checker for the configuration file: every table has a fixed set of keys; unknown keys and wrong
 * types are problems (never silently ignored), each tied to the key path it concerns so that the loader can point
 * to its line. Values are checked further by the `check` functions (they throw UsageError with the reason).
 */
import { TomlDate } from 'smol-toml';
import { UsageError } from '../../errors.ts';
import { closest } from './suggest.ts';
import type { KeyPath } from './toml-positions.ts';

export interface Problem {
  readonly path: KeyPath;
  readonly message: string;
  /** point at the key (unknown keys, missing keys) or at the value (wrong types and values) */
  readonly at: 'key' | 'value';
}

export type Spec =
  | { readonly kind: 'string'; readonly check?: (v: string) => unknown }
  /** a string or an array of strings (a single string is a one-element list) */
  | { readonly kind: 'strings'; readonly check?: (v: string) => unknown }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly unit?: string }
  /** an integer or a float (e.g. a load threshold) */
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly unit?: string }
  /** an integer >= 0, or "unlimited" (also -1), as forget's --keep-<period> */
  | { readonly kind: 'count' }
  /** a size such as "2G", or an integer number of bytes */
  | { readonly kind: 'size'; readonly check: (v: string) => unknown }
  | { readonly kind: 'table'; readonly fields: Fields; readonly note?: string };

export type Fields = Readonly<Record<string, Spec>>;

/** "profiles.home.paths[2]" (keys that are not bare words are quoted). */
export function showPath(path: KeyPath): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += `${s ? '.' : ''}${/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p)}`;
  }
  return s || '(top level)';
}

/** What a TOML value is, in words ("a string", "an array", ...). */
export function typeName(v: unknown): string {
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'number' || typeof v === 'bigint') return Number.isInteger(Number(v)) ? 'an integer' : 'a float';
  if (v instanceof TomlDate || v instanceof Date) return 'a date';
  if (Array.isArray(v)) return 'an array';
  return 'a table';
}

const EXPECTED: Readonly<Record<Spec['kind'], string>> = {
  string: 'a string',
  strings: 'a string or an array of strings',
  bool: 'a boolean (true or false)',
  int: 'an integer',
  number: 'a number',
  count: 'an integer or "unlimited"',
  size: 'a size (e.g. "500M", "2G") or an integer number of bytes',
  table: 'a table',
};

export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TomlDate) && !(v instanceof Date);
}

/** The value after its check, or a problem. */
function checked<T>(path: KeyPath, v: T, check: ((v: T) => unknown) | undefined, problems: Problem[]): unknown {
  if (!check) return v;
  try {
    return check(v);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    problems.push({ path, message: e.message, at: 'value' });
    return undefined;
  }
}

/** Checks one value against its spec; returns the (normalized) value, or undefined after recording a problem. */
export function checkValue(v: unknown, spec: Spec, path: KeyPath, problems: Problem[], other?: (key: string) => string | undefined): unknown {
  const wrong = (): undefined => {
    problems.push({ path, message: `${showPath(path)}: expected ${EXPECTED[spec.kind]}, got ${typeName(v)}`, at: 'value' });
    return undefined;
  };
  switch (spec.kind) {
    case 'string':
      return typeof v === 'string' ? checked(path, v, spec.check, problems) : wrong();
    case 'strings': {
      if (typeof v === 'string') {
        const one = checked(path, v, spec.check, problems);
        return one === undefined ? undefined : [one];
      }
      if (!Array.isArray(v)) return wrong();
      const out: unknown[] = [];
      v.forEach((x, i) => {
        if (typeof x !== 'string') {
          problems.push({ path: [...path, i], message: `${showPath([...path, i])}: expected a string, got ${typeName(x)}`, at: 'key' });
          return;
        }
        const c = checked([...path, i], x, spec.check, problems);
        if (c !== undefined) out.push(c);
      });
      return out.length === v.length ? out : undefined;
    }
    case 'bool':
      return typeof v === 'boolean' ? v : wrong();
    case 'int': {
      if (typeof v !== 'number' || !Number.isInteger(v)) return wrong();
      if (v < spec.min || v > spec.max) {
        problems.push({ path, message: `${showPath(path)}: must be from ${spec.min} to ${spec.max}${spec.unit ? ` ${spec.unit}` : ''}, got ${v}`, at: 'value' });
        return undefined;
      }
      return v;
    }
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return wrong();
      if (v < spec.min || v > spec.max) {
        problems.push({ path, message: `${showPath(path)}: must be from ${spec.min} to ${spec.max}${spec.unit ? ` ${spec.unit}` : ''}, got ${v}`, at: 'value' });
        return undefined;
      }
      return v;
    }
    case 'count': {
      if (v === 'unlimited' || v === -1) return -1;
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
      if (typeof v === 'number' || typeof v === 'string') {
        problems.push({ path, message: `${showPath(path)}: expected a whole number >= 0 or "unlimited", got ${JSON.stringify(v)}`, at: 'value' });
        return undefined;
      }
      return wrong();
    }
    case 'size':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
      return typeof v === 'string' ? (checked(path, v, spec.check, problems) === undefined ? undefined : v) : wrong();
    case 'table':
      return isTable(v) ? checkTable(v, spec.fields, path, problems, other) : wrong();
  }
}

/**
 * Checks a table's keys and values. Unknown keys are problems with a suggestion: the closest known key here, or
 * (through `other`) the table where such a key belongs.
 */
export function checkTable(raw: Record<string, unknown>, fields: Fields, path: KeyPath, problems: Problem[], other?: (key: string) => string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = Object.hasOwn(fields, k) ? fields[k] : undefined;
    if (!spec) {
      const near = closest(k, Object.keys(fields));
      const elsewhere = near === undefined ? other?.(k) : undefined;
      const hint = near !== undefined ? `; did you mean "${near}"?` : elsewhere !== undefined ? `; did you mean ${elsewhere}?` : '';
      problems.push({ path: [...path, k], message: `${showPath([...path, k])}: unknown key${hint}`, at: 'key' });
      continue;
    }
    const value = checkValue(v, spec, [...path, k], problems, other);
    if (value !== undefined) out[k] = value;
  }
  return out;
}
