/**
 * Synthetic PyBackup repositories holding K tiny data blobs, built with the project's own repository code
 * (Repository.init, PackBuilder, encodeIndex, saveFile), so every pack, index file and blob is valid (a blob's id is
 * the keyed hash of its plaintext, and every box is sealed). No snapshot references the blobs.
 *
 * Speed (~13 µs per blob; the repository's Sealer draws nonces from a pool): blob plaintexts are slices of one
 * AES-CTR keystream, blob boxes are sealed by the repository's own Sealer, packs are written without fsync
 * (the repository is a throwaway fixture), and index files are sealed by the repository itself. At the end, one blob
 * is read back and checked with the project's own readPackHeader/openBlob.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalBackend } from '../../src/backend/local/local-backend.ts';
import { Sealer } from '../../src/crypto/aead.ts';
import { blobIdOf } from '../../src/crypto/master-key.ts';
import { openBlob } from '../../src/repository/blob-codec.ts';
import { type IndexedPack, encodeIndex } from '../../src/repository/index-format.ts';
import { PackBuilder, readPackHeader } from '../../src/repository/pack-format.ts';
import { encodePayloadParts } from '../../src/repository/payload.ts';
import { Repository } from '../../src/repository/repository.ts';
import { exists, fmtBytes, removeTree, walk } from '../fsutil.ts';
import { createByteStream, createRng } from '../prng.ts';
import { PASSWORD } from '../tools.ts';
import { fmtCount, secsSince } from './common.ts';

export interface SynthSpec {
  format: 1;
  seed: string;
  chunks: number;
  minBlob: number;
  maxBlob: number;
  blobsPerPack: number;
  packsPerIndex: number;
  /** How many present blob ids are kept (uniform sample) for the lookup benchmark. */
  sampleIds: number;
}

export interface SynthManifest {
  spec: SynthSpec;
  createdAt: string;
  /** Repository id: names the catalog directory under the cache root. */
  repoId: string;
  packs: number;
  indexFiles: number;
  packBytes: number;
  indexBytes: number;
  buildSec: number;
}

export interface SynthRepo {
  dir: string;
  repo: string;
  /** Every file the builder wrote (relative to `repo`): anything else was added later and may be deleted. */
  baseline: Set<string>;
  /** `sampleIds` present blob ids, 32 bytes each. */
  idsFile: string;
  manifest: SynthManifest;
  reused: boolean;
}

export function synthSpec(chunks: number): SynthSpec {
  return { format: 1, seed: 'pybackup-scale-synth-1', chunks, minBlob: 64, maxBlob: 256, blobsPerPack: 2000, packsPerIndex: 16, sampleIds: 100_000 };
}

/** Reads the first pack back and opens its first blob with the repository's own code (throws if anything is off). */
async function selfCheck(repo: Repository, packId: string): Promise<void> {
  const pack = Buffer.from(await repo.backend.load({ type: 'pack', name: packId }));
  const first = readPackHeader(pack, repo.sealer)[0];
  if (!first) throw new Error('synthetic repository: first pack is empty');
  openBlob(pack.subarray(first.offset, first.offset + first.length), repo.sealer, repo.key.id, first.id, first.rawLength);
}

/** Cheapest KDF the key file format accepts: opening the repository costs milliseconds, for every command. */
const CHEAP_KDF = { memory: 8 * 1024, passes: 1, parallelism: 1 };
const MARKER = '.pybackup-bench-synth-repo';

async function build(dir: string, spec: SynthSpec, log: (s: string) => void): Promise<SynthManifest> {
  const t0 = performance.now();
  const repoDir = join(dir, 'repo');
  const backend = new LocalBackend(repoDir, { sync: false });
  const scratchCatalog = join(dir, 'build-catalog.db');
  const repo = await Repository.init(backend, PASSWORD, { kdf: CHEAP_KDF, catalogPath: scratchCatalog });
  const rng = createRng(`${spec.seed}:${spec.chunks}`);
  const bytes = createByteStream(`${spec.seed}:${spec.chunks}:bytes`);
  const slab = 4 << 20;
  let pool = bytes.next(slab);
  let used = 0;
  const sample = Buffer.alloc(Math.min(spec.sampleIds, spec.chunks) * 32);
  const sampleN = sample.length / 32;
  const pb = new PackBuilder(new Sealer(repo.key.encrypt), spec.blobsPerPack * (spec.maxBlob + 64) + 64 * 1024);
  const scratch = { buf: Buffer.alloc(0) };
  const raw = { level: 0 };
  let pending: IndexedPack[] = [];
  const m = { packs: 0, indexFiles: 0, packBytes: 0, indexBytes: 0 };
  const flushIndex = async (): Promise<void> => {
    if (pending.length === 0) return;
    const plain = encodeIndex(pending);
    await repo.saveFile('index', plain);
    m.indexFiles++;
    m.indexBytes += plain.length;
    pending = [];
  };
  let recycled: Buffer | undefined;
  let firstPack: string | undefined;
  let lastLog = performance.now();
  for (let i = 0; i < spec.chunks; i++) {
    const len = rng.int(spec.minBlob, spec.maxBlob);
    if (used + len > pool.length) {
      pool = bytes.next(slab);
      used = 0;
    }
    const plain = pool.subarray(used, used + len);
    used += len;
    const id = blobIdOf(repo.key.id, plain);
    // Reservoir sample of present ids (Algorithm R).
    if (i < sampleN) id.copy(sample, i * 32);
    else {
      const j = rng.int(0, i);
      if (j < sampleN) id.copy(sample, j * 32);
    }
    pb.addPayload(id, 'data', encodePayloadParts(plain, raw, scratch), len);
    if (pb.count === spec.blobsPerPack || i === spec.chunks - 1) {
      const p = pb.finish(recycled);
      await backend.save({ type: 'pack', name: p.id }, p.data);
      recycled = Buffer.from(p.data.buffer, 0, p.data.buffer.byteLength);
      firstPack ??= p.id;
      m.packs++;
      m.packBytes += p.data.length;
      pending.push({ id: p.id, blobs: p.blobs });
      if (pending.length >= spec.packsPerIndex) await flushIndex();
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        const rate = (i + 1) / secsSince(t0);
        log(`  ${fmtCount(i + 1)} / ${fmtCount(spec.chunks)} blobs (${Math.round(rate)} blobs/s, ~${Math.round((spec.chunks - i - 1) / rate)} s left)`);
      }
    }
  }
  await flushIndex();
  if (firstPack !== undefined) await selfCheck(repo, firstPack);
  await writeFile(join(dir, 'present-ids.bin'), sample);
  const repoId = repo.config.id;
  await repo.close();
  await rm(scratchCatalog, { force: true });
  await rm(`${scratchCatalog}-wal`, { force: true });
  await rm(`${scratchCatalog}-shm`, { force: true });
  return { spec, createdAt: new Date().toISOString(), repoId, ...m, buildSec: secsSince(t0) };
}

/** Builds the repository under `dir/repo`, or reuses it when `dir/manifest.json` has the same spec. */
export async function prepareSynthRepo(dir: string, spec: SynthSpec, log: (s: string) => void): Promise<SynthRepo> {
  const manifestPath = join(dir, 'manifest.json');
  const out = { dir, repo: join(dir, 'repo'), idsFile: join(dir, 'present-ids.bin') };
  const baselinePath = join(dir, 'baseline.txt');
  const readBaseline = async (): Promise<Set<string>> => new Set((await readFile(baselinePath, 'utf8')).split('\n').filter((l) => l.length > 0));
  if (await exists(manifestPath)) {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8')) as SynthManifest;
      if (JSON.stringify(m.spec) === JSON.stringify(spec) && (await exists(join(out.repo, 'config'))) && (await exists(out.idsFile)) && (await exists(baselinePath))) {
        log(`synthetic repository: reusing ${out.repo} (${fmtCount(spec.chunks)} blobs, ${m.packs} packs, ${m.indexFiles} index files)`);
        return { ...out, baseline: await readBaseline(), manifest: m, reused: true };
      }
    } catch {
      // rebuild
    }
  } else if (await exists(dir)) {
    if (!(await exists(join(dir, MARKER)))) throw new Error(`${dir} exists and is not a synthetic repository; refusing to modify it`);
  }
  log(`synthetic repository: building ${fmtCount(spec.chunks)} blobs of ${spec.minBlob}–${spec.maxBlob} B in ${out.repo}`);
  await removeTree(dir);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), 'created by bench/scale.ts\n');
  const m = await build(dir, spec, log);
  const files: string[] = [];
  for await (const e of walk(out.repo)) if (!e.st.isDirectory()) files.push(e.rel);
  await writeFile(baselinePath, `${files.join('\n')}\n`);
  await writeFile(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
  log(
    `synthetic repository: built in ${m.buildSec.toFixed(1)} s (${Math.round(spec.chunks / m.buildSec)} blobs/s): ` +
      `${m.packs} packs (${fmtBytes(m.packBytes)}), ${m.indexFiles} index files (${fmtBytes(m.indexBytes)} before zstd)`,
  );
  return { ...out, baseline: await readBaseline(), manifest: m, reused: false };
}
