/**
 * WebAssembly versions of the cut function of src/chunker/fastcdc.ts (FastCDC-2020, normalized chunking, keyed
 * 32-bit gear hash), for bench/chunker-wasm.ts. Same rule, same masks, same i32 wraparound:
 *
 *   '1'  one byte per step:   h = (h << 1) + gear[b]; cut if (h & mask) == 0
 *   '2'  two bytes per step, as the TS code: h = (h << 2) + gls[b0], tested against mask << 1, then
 *        h = h + gear[b1], tested against mask (gls[x] = gear[x] << 1; exact because the masks never use bit 31)
 *
 * Each comes with min/avg/max and the masks as call arguments (one module for every parameter set), or with them
 * baked into the code as constants ('1c', '2c': one module per chunker, like V8's specialization of the TS closure).
 *
 * Memory ("env"."mem", supplied by the caller): gear table as i32 at [0, 1024), the pre-shifted table at
 * [1024, 2048), data from DATA_OFFSET on. cut(p, n[, params]) returns the length of the chunk that starts at
 * memory[p], looking at memory[p, p + n) only: exactly Chunker.cut(buf, start, start + n) with buf = the memory.
 */
import { chunkerMask, validateChunkerParams, type ChunkerParams } from '../../src/chunker/fastcdc.ts';
import { assembleModule, type WatFunc } from './asm.ts';

// The project compiles with lib esnext and no DOM lib, so the WebAssembly JS API has no types: declare what is used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
};

export type WasmVariant = '1' | '2' | '1c' | '2c';
export const WASM_VARIANTS: readonly WasmVariant[] = ['1', '2', '1c', '2c'];

const GEAR = 0;
const GLS = 1024;
/** Where chunk data starts in wasm memory (page-aligned). */
export const DATA_OFFSET = 65536;

// Prologue of the argument-taking variants (the '...c' ones get these as constants instead).
const PROLOGUE = `
  local.get $ms i32.const 1 i32.shl local.set $ms2
  local.get $ml i32.const 1 i32.shl local.set $ml2`;

// Shared head: if n <= min return n; n = min(n, max); normal = p + min(n, avg); lim = p + n; i = p + min.
const HEAD = `
  local.get $n local.get $min i32.le_u
  if local.get $n return end
  local.get $max local.get $n local.get $n local.get $max i32.gt_u select local.set $n   ;; n > max ? max : n
  local.get $p
  local.get $n local.get $avg local.get $n local.get $avg i32.lt_u select              ;; n < avg ? n : avg
  i32.add local.set $normal
  local.get $p local.get $n i32.add local.set $lim
  local.get $p local.get $min i32.add local.set $i`;

/** One hash step on byte memory[i + off] with `table`, then `if (h & mask) == 0 return i + off - p`. */
const step = (shift: number, table: number, off: number, mask: string): string => `
    ${shift === 0 ? 'local.get $h' : `local.get $h i32.const ${shift} i32.shl`}
    local.get $i i32.load8_u offset=${off} i32.const 2 i32.shl i32.load offset=${table}
    i32.add local.tee $h
    local.get ${mask} i32.and i32.eqz
    if local.get $i local.get $p i32.sub ${off === 0 ? '' : `i32.const ${off} i32.add`} return end`;

// One byte per step. The strict loop always runs at least once: min < n and min < avg, so p + min < normal.
const BODY1 = `${HEAD}
  loop $strict
    ${step(1, GEAR, 0, '$ms')}
    local.get $i i32.const 1 i32.add local.tee $i local.get $normal i32.lt_u br_if $strict
  end
  block $done
    local.get $i local.get $lim i32.ge_u br_if $done
    loop $loose
      ${step(1, GEAR, 0, '$ml')}
      local.get $i i32.const 1 i32.add local.tee $i local.get $lim i32.lt_u br_if $loose
    end
  end
  local.get $n`;

/** The two-bytes-per-step loop over [i, bound) with masks m2 = m << 1 and m, then a single step if one byte is left. */
const pairs = (bound: string, m2: string, m: string): string => `
  block $pdone
    local.get $i local.get ${bound} i32.const 1 i32.sub local.tee $b1 i32.ge_u br_if $pdone
    loop $pairs
      ${step(2, GLS, 0, m2)}
      ${step(0, GEAR, 1, m)}
      local.get $i i32.const 2 i32.add local.tee $i local.get $b1 i32.lt_u br_if $pairs
    end
  end
  local.get $i local.get ${bound} i32.lt_u
  if
    ${step(1, GEAR, 0, m)}
    local.get $i i32.const 1 i32.add local.set $i
  end`;

const BODY2 = `${HEAD}
  ${pairs('$normal', '$ms2', '$ms')}
  ${pairs('$lim', '$ml2', '$ml')}
  local.get $n`;

interface Consts {
  min: number;
  avg: number;
  max: number;
  ms: number;
  ml: number;
  ms2: number;
  ml2: number;
}

function consts(p: ChunkerParams): Consts {
  validateChunkerParams(p);
  const bits = 31 - Math.clz32(p.avg);
  const ms = chunkerMask(bits + 2);
  const ml = chunkerMask(bits - 2);
  return { min: p.min, avg: p.avg, max: p.max, ms, ml, ms2: ms << 1, ml2: ml << 1 };
}

/** The WAT function for a variant; the '...c' ones need the parameters to bake in. */
export function cutFunc(variant: WasmVariant, params?: ChunkerParams): WatFunc {
  const two = variant.startsWith('2');
  const locals = ['i', 'h', 'normal', 'lim', ...(two ? ['b1'] : [])];
  const body = two ? BODY2 : BODY1;
  if (variant.endsWith('c')) {
    if (params === undefined) throw new Error(`wasm variant ${variant} needs the chunker parameters`);
    return { name: 'cut', params: ['p', 'n'], locals, body, consts: { ...consts(params) } };
  }
  return { name: 'cut', params: ['p', 'n', 'min', 'avg', 'max', 'ms', 'ml'], locals: [...locals, 'ms2', 'ml2'], body: PROLOGUE + body };
}

export interface WasmChunker {
  readonly variant: WasmVariant;
  readonly params: ChunkerParams;
  readonly memory: WasmMemory;
  /** A view of the data area (DATA_OFFSET to the end of memory). Valid until the memory grows (it never does here). */
  readonly data: Uint8Array;
  /** Chunk length at data[start], looking at data[start, end). Same contract as Chunker.cut. */
  cut(start: number, end: number): number;
  /** chunkAll() over data[0, len). */
  chunkAll(len: number): number[];
}

/** A wasm chunker with room for `capacity` bytes of data, the gear table copied into its memory. */
export function createWasmChunker(variant: WasmVariant, params: ChunkerParams, gear: Uint32Array, capacity: number): WasmChunker {
  const c = consts(params);
  if (!(gear instanceof Uint32Array) || gear.length !== 256) throw new Error('gear table must be a Uint32Array of 256 entries');
  const pages = Math.ceil((DATA_OFFSET + capacity) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const tables = new Int32Array(memory.buffer, 0, 512);
  for (let x = 0; x < 256; x++) {
    tables[GEAR / 4 + x] = gear[x] ?? 0;
    tables[GLS / 4 + x] = (gear[x] ?? 0) << 1;
  }
  const bytes = assembleModule([cutFunc(variant, params)]);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } });
  const data = new Uint8Array(memory.buffer, DATA_OFFSET, pages * 65536 - DATA_OFFSET);
  const check = (start: number, end: number): void => {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= data.length)) {
      throw new RangeError(`wasm cut: bad range [${start}, ${end})`);
    }
  };
  let cut: (start: number, end: number) => number;
  if (variant.endsWith('c')) {
    const f = instance.exports.cut as (p: number, n: number) => number;
    cut = (start, end) => (check(start, end), f(DATA_OFFSET + start, end - start));
  } else {
    const f = instance.exports.cut as (p: number, n: number, min: number, avg: number, max: number, ms: number, ml: number) => number;
    const { min, avg, max, ms, ml } = c;
    cut = (start, end) => (check(start, end), f(DATA_OFFSET + start, end - start, min, avg, max, ms, ml));
  }
  const chunkAll = (len: number): number[] => {
    const lengths: number[] = [];
    let start = 0;
    while (start < len) {
      const n = cut(start, len);
      if (n <= 0) throw new Error(`wasm chunker returned a non-positive length ${n}`);
      lengths.push(n);
      start += n;
    }
    return lengths;
  };
  return { variant, params: Object.freeze({ min: c.min, avg: c.avg, max: c.max }), memory, data, cut, chunkAll };
}
