/**
 * Chunker throughput: chunks 256 MiB of random bytes with the default parameters and with {64Ki, 256Ki, 1Mi}, and
 * prints the best-of-N speed (bytes chunked per second, skipped bytes included) and the mean chunk size.
 *
 *   node bench/chunker-speed.ts [passes=5] [MiB=256]
 *
 * Each configuration runs in a fresh child process, as in the archiver where each file worker owns exactly one
 * chunker. (V8 specializes the cut loop on its closure's constants only while a single chunker exists; a second
 * chunker in the same process runs some 10% slower.)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chunkAll } from '../src/chunker/chunk-all.ts';
import { createChunker, DEFAULT_CHUNKER_PARAMS, deriveGearTable, type ChunkerParams } from '../src/chunker/fastcdc.ts';

const passes = Number(process.argv[2] ?? 5);
const mib = Number(process.argv[3] ?? 256);

const configs: [string, ChunkerParams][] = [
  ['default {512Ki, 1Mi, 8Mi}', DEFAULT_CHUNKER_PARAMS],
  ['small   {64Ki, 256Ki, 1Mi}', { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 }],
];

function measure(label: string, params: ChunkerParams): void {
  const size = mib * 1024 * 1024;
  const data = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; off += 1 << 30) randomFillSync(data, off, Math.min(1 << 30, size - off));
  const chunker = createChunker(params, deriveGearTable(randomBytes(32)));
  let best = Infinity;
  let count = 0;
  for (let p = 0; p < passes; p++) {
    const t0 = process.hrtime.bigint();
    count = chunkAll(chunker, data).length;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  const mbs = size / 1e6 / best;
  console.log(`${label}: ${mbs.toFixed(0).padStart(5)} MB/s  mean chunk ${(size / count / 1024).toFixed(0)} KiB (${count} chunks)`);
}

const child = process.env.CHUNKER_BENCH_CONFIG;
if (child !== undefined) {
  const c = configs[Number(child)];
  if (c === undefined) throw new Error(`no config ${child}`);
  measure(c[0], c[1]);
} else {
  console.log(`chunking ${mib} MiB of random data, best of ${passes} passes, one process per configuration`);
  for (let i = 0; i < configs.length; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(passes), String(mib)], {
      env: { ...process.env, CHUNKER_BENCH_CONFIG: String(i) },
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exitCode = 1;
  }
}
