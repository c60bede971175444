/**
 * A tiny assembler for the flat (non-folded) subset of the WebAssembly text format that bench/chunker-wasm.ts
 * needs: i32-only functions, structured control (block / loop / if ... end, no block results, no else), named
 * labels and locals, and a module that imports one memory ("env" "mem") and exports its functions. It saves a
 * dependency on wabt; the function bodies are ordinary WAT and would assemble unchanged with `wat2wasm` once
 * wrapped in `(func ...)`.
 */

export interface WatFunc {
  readonly name: string;
  /** Parameter names (all i32), in order. */
  readonly params: readonly string[];
  /** Extra local names (all i32); locals start at zero. */
  readonly locals: readonly string[];
  /** Flat WAT instructions; `;;` starts a comment. The function returns one i32. */
  readonly body: string;
  /** `local.get $x` for a name listed here assembles as `i32.const value` (for modules specialized on constants). */
  readonly consts?: Readonly<Record<string, number>>;
}

type Imm = 'none' | 'local' | 'label' | 'i32' | 'mem' | 'block';
const OPS: Record<string, [number, Imm, number?]> = {
  block: [0x02, 'block'],
  loop: [0x03, 'block'],
  if: [0x04, 'block'],
  end: [0x0b, 'none'],
  br: [0x0c, 'label'],
  br_if: [0x0d, 'label'],
  return: [0x0f, 'none'],
  drop: [0x1a, 'none'],
  select: [0x1b, 'none'],
  'local.get': [0x20, 'local'],
  'local.set': [0x21, 'local'],
  'local.tee': [0x22, 'local'],
  'i32.load': [0x28, 'mem', 2],
  'i32.load8_u': [0x2d, 'mem', 0],
  'i32.const': [0x41, 'i32'],
  'i32.eqz': [0x45, 'none'],
  'i32.eq': [0x46, 'none'],
  'i32.ne': [0x47, 'none'],
  'i32.lt_u': [0x49, 'none'],
  'i32.gt_u': [0x4b, 'none'],
  'i32.le_u': [0x4d, 'none'],
  'i32.ge_u': [0x4f, 'none'],
  'i32.add': [0x6a, 'none'],
  'i32.sub': [0x6b, 'none'],
  'i32.and': [0x71, 'none'],
  'i32.shl': [0x74, 'none'],
};

function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`uleb out of range: ${n}`);
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function sleb32(n: number): number[] {
  let v = n | 0;
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

/** Assembles one function body (locals declaration + code + final end). */
export function assembleBody(f: WatFunc): number[] {
  const names = [...f.params, ...f.locals];
  const localIndex = (tok: string | undefined): number => {
    if (tok === undefined) throw new Error(`${f.name}: missing local`);
    const i = tok.startsWith('$') ? names.indexOf(tok.slice(1)) : Number(tok);
    if (!(i >= 0 && i < names.length)) throw new Error(`${f.name}: unknown local ${tok}`);
    return i;
  };
  const toks = f.body
    .split('\n')
    .map((l) => l.replace(/;;.*$/, ''))
    .join(' ')
    .split(/\s+/)
    .filter((t) => t !== '');
  const code: number[] = [];
  const labels: (string | null)[] = [];
  for (let k = 0; k < toks.length; k++) {
    const name = toks[k] as string;
    const spec = OPS[name];
    if (spec === undefined) throw new Error(`${f.name}: unknown instruction ${name}`);
    const [op, imm, align] = spec;
    switch (imm) {
      case 'none':
        if (name === 'end') {
          if (labels.length === 0) throw new Error(`${f.name}: unbalanced end`);
          labels.pop();
        }
        code.push(op);
        break;
      case 'block': {
        const next = toks[k + 1];
        if (next?.startsWith('$')) {
          labels.push(next.slice(1));
          k++;
        } else {
          labels.push(null);
        }
        code.push(op, 0x40);
        break;
      }
      case 'label': {
        const t = toks[++k] ?? '';
        const depth = t.startsWith('$') ? labels.length - 1 - labels.lastIndexOf(t.slice(1)) : Number(t);
        if (!(depth >= 0 && depth < labels.length)) throw new Error(`${f.name}: bad label ${t}`);
        code.push(op, ...uleb(depth));
        break;
      }
      case 'local': {
        const t = toks[++k];
        const c = t?.startsWith('$') ? f.consts?.[t.slice(1)] : undefined;
        if (c !== undefined) {
          if (name !== 'local.get') throw new Error(`${f.name}: ${name} of constant ${t}`);
          code.push(0x41, ...sleb32(c));
        } else {
          code.push(op, ...uleb(localIndex(t)));
        }
        break;
      }
      case 'i32': {
        const t = toks[++k] ?? '';
        const v = Number(t);
        if (!Number.isInteger(v)) throw new Error(`${f.name}: bad i32.const ${t}`);
        code.push(op, ...sleb32(v));
        break;
      }
      case 'mem': {
        let offset = 0;
        let a = align ?? 0;
        for (let t = toks[k + 1]; t !== undefined && /^(offset|align)=/.test(t); t = toks[k + 1]) {
          const [key, val] = t.split('=') as [string, string];
          if (key === 'offset') offset = Number(val);
          else a = Math.log2(Number(val));
          k++;
        }
        code.push(op, ...uleb(a), ...uleb(offset));
        break;
      }
    }
  }
  if (labels.length !== 0) throw new Error(`${f.name}: ${labels.length} unclosed block(s)`);
  code.push(0x0b);
  const locals = f.locals.length > 0 ? vec([[...uleb(f.locals.length), 0x7f]]) : [0];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/** A module importing memory "env"."mem" (at least `minPages` pages) and exporting every function by name. */
export function assembleModule(funcs: readonly WatFunc[], minPages = 1): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  const types = funcs.map((f) => [0x60, ...vec(f.params.map(() => [I32])), ...vec([[I32]])]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x00, ...uleb(minPages)]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map(assembleBody))),
  ];
  return new Uint8Array(bytes);
}
