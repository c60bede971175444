import { appendFileSync } from 'node:fs';
import { FILE_TYPES, type FileType } from '../backend/backend.ts';
import { FAULT_KINDS, FAULT_OPS, type FailRule, type FaultKind, type FaultOp, type FaultOptions } from '../backend/faults.ts';
import { UsageError } from '../errors.ts';

export interface TestFaults {
  readonly faults: FaultOptions;
  /** Per-call timeout of the retry wrapper around the faulty backend (hangs need one). */
  readonly timeoutMs: number;
  /** Base backoff of that retry wrapper. */
  readonly baseMs: number | undefined;
}

/**
 * A test hook, not a feature: `PYBACKUP_TEST_FAULTS` makes every backend faulty (inside the retry wrapper) so the
 * end-to-end tests can run the real CLI against flaky storage. Comma-separated `key=value`, lists joined with "+":
 *   rate=0.1          probability that a call fails
 *   kinds=transient+timeout+permanent
 *   seed=7            seed of the deterministic generator
 *   ops=save+load     operations random faults strike (default all but create)
 *   timeout=200       per-call timeout in ms of the retry wrapper (default 1000)
 *   base=20           base backoff in ms of the retry wrapper
 *   fail=save:pack:2  every `save` of a pack after the first 2 fails permanently (op[:type]:after, "+" for more)
 *   log=/tmp/f.ndjson append a JSON line per injected fault (so a test can see that faults struck)
 */
export function parseTestFaults(spec: string | undefined): TestFaults | undefined {
  if (!spec) return undefined;
  const bad = (what: string): never => {
    throw new UsageError(`PYBACKUP_TEST_FAULTS: ${what} (expected e.g. "rate=0.1,kinds=transient+timeout,seed=7,timeout=200")`);
  };
  const num = (k: string, v: string, max = Infinity): number => {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n < 0 || n > max) bad(`${k}=${v} is not a number in [0, ${max}]`);
    return n;
  };
  const list = <T extends string>(k: string, v: string, allowed: readonly T[]): T[] =>
    v.split('+').map((x) => (allowed.includes(x as T) ? (x as T) : bad(`${k}: unknown "${x}" (one of ${allowed.join(', ')})`)));
  let faults: { -readonly [K in keyof FaultOptions]: FaultOptions[K] } = {};
  let timeoutMs = 1000;
  let baseMs: number | undefined;
  for (const part of spec.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq < 0) bad(`"${part}" is not key=value`);
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 'rate') faults.rate = num(k, v, 1);
    else if (k === 'kinds') faults.kinds = list<FaultKind>(k, v, FAULT_KINDS);
    else if (k === 'seed') faults.seed = num(k, v);
    else if (k === 'ops') faults.ops = list<FaultOp>(k, v, FAULT_OPS);
    else if (k === 'timeout') timeoutMs = Math.max(1, num(k, v));
    else if (k === 'base') baseMs = num(k, v);
    else if (k === 'fail') faults.fail = v.split('+').map((r) => parseRule(r, bad));
    else if (k === 'log') faults.onFault = (f) => appendFileSync(v, `${JSON.stringify(f)}\n`);
    else bad(`unknown key "${k}"`);
  }
  faults = { ...faults, hangMs: Math.max(timeoutMs * 10, 10_000) };
  return { faults, timeoutMs, baseMs };
}

function parseRule(r: string, bad: (what: string) => never): FailRule {
  const parts = r.split(':');
  const [op, type, after] = parts.length === 2 ? [parts[0], undefined, parts[1]] : parts;
  if (parts.length < 2 || parts.length > 3 || !FAULT_OPS.includes(op as FaultOp)) return bad(`fail rule "${r}" is not op[:type]:after`);
  if (type !== undefined && !FILE_TYPES.includes(type as FileType)) return bad(`fail rule "${r}": unknown file type "${type}"`);
  const n = Number(after);
  if (!Number.isInteger(n) || n < 0) return bad(`fail rule "${r}": "${after}" is not a count`);
  return { op: op as FaultOp, after: n, ...(type !== undefined ? { type: type as FileType } : {}) };
}
