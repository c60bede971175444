/**
 * The TypeScript FastCDC chunker (src/chunker/fastcdc.ts) against WebAssembly versions of the same cut function
 * (bench/chunker-wasm/chunker.ts: hand-written WAT, assembled at run time by bench/chunker-wasm/asm.ts, no
 * dependency).
 *
 *   node bench/chunker-wasm.ts [passes=5] [MiB=256]
 *
 * 1. Verification (fails loudly, exit 1): every wasm variant must give exactly the cut points of
 *    chunkAll(createChunker(...)) on 64 MiB of random data (default and small parameters), on edge configurations
 *    (smallest and odd min/max, max = avg + 1, huge avg; odd and extreme gear tables; zero, periodic and text-like data;
 *    data lengths around min/avg/max), on random (start, end) pairs, and on a file read with fs.readSync straight
 *    into a view of the wasm memory.
 * 2. Throughput, as bench/chunker-speed.ts measures it: MiB of deterministic random bytes, best of `passes`, bytes
 *    chunked per second (skipped bytes included), one fresh child process per (configuration, implementation). The
 *    wasm children also time copying the data from a JS Buffer into wasm memory (Uint8Array.prototype.set). All
 *    children of a configuration must report the same cut points (count and digest of the chunk lengths).
 *
 * Prints a markdown report and writes it to bench/results/chunker-wasm-latest.md.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkAll } from '../src/chunker/chunk-all.ts';
import { createChunker, DEFAULT_CHUNKER_PARAMS, deriveGearTable, type ChunkerParams } from '../src/chunker/fastcdc.ts';
import { createWasmChunker, WASM_VARIANTS, type WasmVariant } from './chunker-wasm/chunker.ts';
import { createRng } from './prng.ts';

const passes = Number(process.argv[2] ?? 5);
const mib = Number(process.argv[3] ?? 256);
const MiB = 1024 * 1024;

const configs: [string, ChunkerParams][] = [
  ['default {512Ki, 1Mi, 8Mi}', DEFAULT_CHUNKER_PARAMS],
  ['small {64Ki, 256Ki, 1Mi}', { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 }],
];

type Impl = 'ts' | WasmVariant;
const IMPLS: readonly Impl[] = ['ts', ...WASM_VARIANTS];
const IMPL_LABEL: Record<Impl, string> = {
  ts: 'TS, 2 bytes/step (src/chunker/fastcdc.ts)',
  '1': 'WASM, 1 byte/step, params as arguments',
  '2': 'WASM, 2 bytes/step, params as arguments',
  '1c': 'WASM, 1 byte/step, params baked in as constants',
  '2c': 'WASM, 2 bytes/step, params baked in as constants',
};

/** Deterministic pseudo-random bytes (AES-128-CTR keystream keyed by `seed`) written into `out`. */
function fillRandom(out: Uint8Array, seed: string): void {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const block = Buffer.alloc(Math.min(16 * MiB, out.length));
  for (let off = 0; off < out.length; off += block.length) {
    const ks = cipher.update(block);
    out.set(ks.subarray(0, Math.min(ks.length, out.length - off)), off);
  }
}

const benchGear = (): Uint32Array => deriveGearTable(createHash('sha256').update('chunker-wasm bench key').digest());

function fingerprint(lengths: readonly number[]): string {
  return createHash('sha256').update(new Uint32Array(lengths)).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

class Mismatch extends Error {}

function compare(what: string, want: readonly number[], got: readonly number[]): void {
  if (want.length === got.length && want.every((x, i) => x === got[i])) return;
  let i = 0;
  while (i < want.length && want[i] === got[i]) i++;
  throw new Mismatch(
    `MISMATCH (${what}): TS gives ${want.length} chunks, wasm ${got.length}; first difference at chunk ${i}: TS ${want[i]}, wasm ${got[i]}`,
  );
}

function verify(): number {
  let cases = 0;
  const keyedGear = benchGear();

  // 64 MiB of random data, the two benchmark configurations.
  const big = Buffer.allocUnsafe(64 * MiB);
  fillRandom(big, 'verify-64');
  for (const [label, params] of configs) {
    const want = chunkAll(createChunker(params, keyedGear), big);
    for (const v of WASM_VARIANTS) {
      const w = createWasmChunker(v, params, keyedGear, big.length);
      w.data.set(big);
      compare(`64 MiB random, ${label}, wasm ${v}`, want, w.chunkAll(big.length));
      cases++;
    }
  }

  // Edge configurations, gear tables and data.
  const edgeConfigs: ChunkerParams[] = [
    { min: 64, avg: 128, max: 256 }, // smallest allowed
    { min: 65, avg: 128, max: 257 }, // odd min and max (pair loop ends on an odd byte)
    { min: 100, avg: 4096, max: 5000 },
    { min: 1000, avg: 1024, max: 1025 }, // max = avg + 1: a loose part of one byte
    { min: 127, avg: 128, max: 129 },
    { min: 64, avg: 2 ** 25, max: 2 ** 26 }, // huge avg: 27-bit small mask, the whole buffer is in the strict part
    DEFAULT_CHUNKER_PARAMS,
  ];
  const rng = createRng('chunker-wasm verify');
  const gears: [string, Uint32Array][] = [
    ['keyed', keyedGear],
    ['zero', new Uint32Array(256)],
    ['all ones', new Uint32Array(256).fill(0xffffffff)],
    ['bit 31 / odd', Uint32Array.from({ length: 256 }, (_, x) => (0x80000001 + x * 0x01010101) >>> 0)],
    ['random', Uint32Array.from({ length: 256 }, () => rng.u32())],
  ];
  const n = 2 * MiB + 7;
  const random = Buffer.allocUnsafe(n);
  fillRandom(random, 'verify-edge');
  const words = ['the ', 'chunker ', 'cuts ', 'data ', 'at ', 'content ', 'defined ', 'points\n', 'x', 'yy'];
  let text = '';
  while (text.length < n) text += rng.pick(words);
  const datas: [string, Buffer][] = [
    ['random', random],
    ['zeros', Buffer.alloc(n)],
    ['0..255 periodic', Buffer.from(Uint8Array.from({ length: n }, (_, i) => i & 255))],
    ['text-like', Buffer.from(text.slice(0, n), 'latin1')],
  ];
  for (const params of edgeConfigs) {
    const { min, avg, max } = params;
    const lens = [0, 1, min - 1, min, min + 1, min + 2, avg - 1, avg, avg + 1, max - 1, max, max + 1, max + 2, 2 * max + 3, n].filter(
      (l, i, a) => l <= n && a.indexOf(l) === i,
    );
    for (const [gname, gear] of gears) {
      const ts = createChunker(params, gear);
      const wasm = WASM_VARIANTS.map((v) => createWasmChunker(v, params, gear, n));
      for (const [dname, data] of datas) {
        for (const w of wasm) w.data.set(data);
        for (const len of lens) {
          const want = chunkAll(ts, data.subarray(0, len));
          for (const w of wasm) {
            compare(`{${min}, ${avg}, ${max}}, gear ${gname}, ${dname} data of ${len} bytes, wasm ${w.variant}`, want, w.chunkAll(len));
            cases++;
          }
        }
        // Single cuts at random (start, end): every size class relative to min/avg/max, odd and even offsets.
        // (A cut scans up to max bytes: few of them for the large configurations, to keep this short.)
        if (gname === 'keyed' || gname === 'random') {
          for (let k = 0, pairs = max <= 8192 ? 2000 : 20; k < pairs; k++) {
            const start = rng.int(0, n);
            const span = rng.pick([min, avg, max, 2 * max]);
            const end = Math.min(n, start + rng.int(0, span + 2));
            const want = ts.cut(data, start, end);
            for (const w of wasm) {
              const got = w.cut(start, end);
              if (got !== want) throw new Mismatch(`MISMATCH ({${min}, ${avg}, ${max}}, gear ${gname}, ${dname}, cut [${start}, ${end}), wasm ${w.variant}): TS ${want}, wasm ${got}`);
              cases++;
            }
          }
        }
      }
    }
  }

  // Reading a file straight into wasm memory: fs.readSync into a Uint8Array view of WebAssembly.Memory, no copy.
  const dir = mkdtempSync(join(tmpdir(), 'chunker-wasm-'));
  try {
    const file = join(dir, 'data.bin');
    const content = Buffer.allocUnsafe(5 * MiB + 3);
    fillRandom(content, 'verify-file');
    writeFileSync(file, content);
    const params = configs[1]?.[1] ?? DEFAULT_CHUNKER_PARAMS;
    const want = chunkAll(createChunker(params, keyedGear), readFileSync(file));
    const w = createWasmChunker('2', params, keyedGear, content.length);
    const fd = openSync(file, 'r');
    let got = 0;
    try {
      for (let r = -1; r !== 0; got += r) r = readSync(fd, w.data, got, Math.min(1 * MiB, w.data.length - got), null);
    } finally {
      closeSync(fd);
    }
    if (got !== content.length) throw new Error(`read ${got} bytes of ${content.length}`);
    compare('file read with readSync into wasm memory', want, w.chunkAll(got));
    cases++;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement (child process)

interface ChildResult {
  impl: Impl;
  config: number;
  /** Best chunking time (s) and all pass times. */
  best: number;
  times: number[];
  count: number;
  fingerprint: string;
  /** wasm only: best time (s) to copy the data from a JS Buffer into wasm memory. */
  copyBest?: number;
}

function measure(config: number, impl: Impl): ChildResult {
  const params = configs[config]?.[1];
  if (params === undefined) throw new Error(`no config ${config}`);
  const size = mib * MiB;
  const source = Buffer.allocUnsafe(size);
  fillRandom(source, `bench-${mib}`);
  const gear = benchGear();
  const times: number[] = [];
  let lengths: number[] = [];
  const time = (f: () => void): number => {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  if (impl === 'ts') {
    const chunker = createChunker(params, gear);
    for (let p = 0; p < passes; p++) times.push(time(() => (lengths = chunkAll(chunker, source))));
    return { impl, config, best: Math.min(...times), times, count: lengths.length, fingerprint: fingerprint(lengths) };
  }
  const w = createWasmChunker(impl, params, gear, size);
  const copies: number[] = [];
  for (let p = 0; p < passes; p++) copies.push(time(() => w.data.set(source)));
  for (let p = 0; p < passes; p++) times.push(time(() => (lengths = w.chunkAll(size))));
  return { impl, config, best: Math.min(...times), times, count: lengths.length, fingerprint: fingerprint(lengths), copyBest: Math.min(...copies) };
}

// ---------------------------------------------------------------------------------------------------------------
// Parent

function runChild(config: number, impl: Impl): ChildResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(passes), String(mib)], {
    env: { ...process.env, CHUNKER_WASM_CHILD: `${config}:${impl}` },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child ${config}:${impl} failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as ChildResult;
}

function main(): void {
  const t0 = Date.now();
  const loadStart = loadavg()[0] ?? 0;
  let cases: number;
  try {
    cases = verify();
  } catch (e) {
    if (e instanceof Mismatch) {
      console.error(`\n!!! ${e.message}\n!!! the wasm chunker does NOT match src/chunker/fastcdc.ts; no measurement\n`);
      process.exit(1);
    }
    throw e;
  }
  console.error(`verification: ${cases} comparisons, all identical (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const size = mib * MiB;
  const results: ChildResult[][] = configs.map(() => []);
  for (let c = 0; c < configs.length; c++) {
    for (const impl of IMPLS) {
      const r = runChild(c, impl);
      console.error(`  ${configs[c]?.[0]}  ${impl.padEnd(2)}  ${r.times.map((t) => (size / 1e6 / t).toFixed(0)).join(' ')} MB/s`);
      results[c]?.push(r);
    }
    const first = results[c]?.[0];
    for (const r of results[c] ?? []) {
      if (r.count !== first?.count || r.fingerprint !== first.fingerprint) {
        console.error(`\n!!! MISMATCH on the ${mib} MiB benchmark data, ${configs[c]?.[0]}: ${r.impl} gives ${r.count} chunks (${r.fingerprint}), ts ${first?.count} (${first?.fingerprint})\n`);
        process.exit(1);
      }
    }
  }

  const mbs = (s: number): number => size / 1e6 / s;
  const fmt = (x: number): string => x.toFixed(0);
  const tsBest = results.map((rs) => rs[0]?.best ?? NaN);
  const rows = IMPLS.map((impl, k) => {
    const cells = results.flatMap((rs, c) => {
      const r = rs[k];
      if (r === undefined) return ['', ''];
      const speed = `${fmt(mbs(r.best))} (${((tsBest[c] ?? NaN) / r.best).toFixed(2)}x)`;
      const withCopy = r.copyBest === undefined ? '-' : fmt(mbs(r.best + r.copyBest));
      return [speed, withCopy];
    });
    return `| ${IMPL_LABEL[impl]} | ${cells.join(' | ')} |`;
  });
  const copyRow = results.map((rs) => {
    const copies = rs.flatMap((r) => (r.copyBest === undefined ? [] : [mbs(r.copyBest)]));
    return `${fmt(Math.min(...copies))}-${fmt(Math.max(...copies))}`;
  });
  const mean = results.map((rs) => `${configs[results.indexOf(rs)]?.[0]}: ${rs[0]?.count} chunks, mean ${((size / (rs[0]?.count ?? 1)) / 1024).toFixed(0)} KiB, digest ${rs[0]?.fingerprint}`);
  const loadEnd = loadavg()[0] ?? 0;
  const md = [
    `# Chunker: TypeScript vs WebAssembly`,
    ``,
    `${new Date().toISOString()} · ${cpus()[0]?.model.trim() ?? 'unknown CPU'} · ${cpus().length} CPUs · Node ${process.version} · load average ${loadStart.toFixed(2)} → ${loadEnd.toFixed(2)}`,
    ``,
    `${mib} MiB of random bytes, best of ${passes} passes, one fresh process per cell; MB/s = 10^6 bytes chunked per second`,
    `(skipped bytes included). (x) = speed relative to the TS chunker. "incl. copy" adds the time to copy the data from a`,
    `JS Buffer into wasm memory once (Uint8Array.prototype.set), for a pipeline that reads into a Buffer first.`,
    ``,
    `| implementation | ${configs.map(([l]) => `${l} MB/s | incl. copy`).join(' | ')} |`,
    `| --- | ${configs.map(() => '---: | ---:').join(' | ')} |`,
    ...rows,
    `| copy JS Buffer → wasm memory alone (range over the wasm processes) | ${copyRow.flatMap((c) => [c, '']).join(' | ')} |`,
    ``,
    `Verification: ${cases} comparisons against chunkAll(createChunker(...)) / Chunker.cut, all identical; the ${mib} MiB`,
    `benchmark data gave the same cut points in every process (${mean.join('; ')}).`,
    ``,
  ].join('\n');
  console.log(md);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'chunker-wasm-latest.md'), md);
  console.error(`total ${((Date.now() - t0) / 1000).toFixed(1)} s; written to bench/results/chunker-wasm-latest.md`);
}

const child = process.env.CHUNKER_WASM_CHILD;
if (child !== undefined) {
  const [c, impl] = child.split(':');
  if (!IMPLS.includes(impl as Impl)) throw new Error(`bad CHUNKER_WASM_CHILD ${child}`);
  console.log(JSON.stringify(measure(Number(c), impl as Impl)));
} else {
  main();
}
