/** Generated trees of many small files (built once, then reused while the manifest matches; see corpus.ts). */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type TreeStats, exists, fmtBytes, removeTree, treeStats } from '../fsutil.ts';
import { createRng, createTextGen } from '../prng.ts';
import { type TreeDigest, digestTree } from '../treehash.ts';
import { secsSince } from './common.ts';

/** Everything that determines the tree; a stored tree is reused only if its spec is identical. */
export interface TreeSpec {
  format: 1;
  seed: string;
  files: number;
  minBytes: number;
  maxBytes: number;
  /** Files per leaf directory: uniform in [dirMin, dirMax]. */
  dirMin: number;
  dirMax: number;
  /** Leaf directories per group directory. */
  groupSize: number;
}

export interface TreeManifest {
  spec: TreeSpec;
  createdAt: string;
  host: string;
  buildSec: number;
  stats: TreeStats;
  /** Content digest of `data/` (treehash.ts). */
  digest: string;
}

export interface GeneratedTree {
  dir: string;
  /** The directory that is backed up. */
  data: string;
  manifest: TreeManifest;
  reused: boolean;
  /** Digest of the tree; computing it read every file, so the page cache is warm. */
  baseline: TreeDigest;
}

/** N small files of 100 B–4 KiB, 100–1000 per directory, mildly compressible seeded text. */
export function manyFilesSpec(files: number): TreeSpec {
  return { format: 1, seed: 'pybackup-scale-files-1', files, minBytes: 100, maxBytes: 4096, dirMin: 100, dirMax: 1000, groupSize: 100 };
}

/** The fixed source of the memory scenario: 2,000 files of 12–38 KiB (~50 MB) in directories of ~200. */
export function memorySourceSpec(): TreeSpec {
  return { format: 1, seed: 'pybackup-scale-memsrc-1', files: 2000, minBytes: 12 * 1024, maxBytes: 38 * 1024, dirMin: 150, dirMax: 250, groupSize: 100 };
}

const MARKER = '.pybackup-bench-scale-tree';
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

async function writeTree(spec: TreeSpec, dest: string, log: (s: string) => void): Promise<void> {
  const rng = createRng(`${spec.seed}:layout`);
  const text = createTextGen(`${spec.seed}:text`);
  const w = Math.max(6, String(spec.files).length);
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  let leaf = 0;
  let lastLog = performance.now();
  while (written < spec.files) {
    const dir = join(dest, `g-${pad(Math.floor(leaf / spec.groupSize), 4)}`, `d-${pad(leaf, 5)}`);
    await mkdir(dir, { recursive: true });
    const n = Math.min(rng.int(spec.dirMin, spec.dirMax), spec.files - written);
    for (let i = 0; i < n; i++, written++) {
      // Content is generated in file order, so the tree is deterministic whatever order the writes finish in.
      const p = writeFile(join(dir, `f-${pad(written, w)}.txt`), text.text(rng.int(spec.minBytes, spec.maxBytes))).then(() => {
        inFlight.delete(p);
      });
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    leaf++;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`  ${written} / ${spec.files} files written`);
    }
  }
  await Promise.all(inFlight);
}

/**
 * Builds the tree under `dir` (backed-up tree in `dir/data`), or reuses it when its manifest has the same spec and the
 * content digest still matches. Refuses to touch a non-empty directory it did not create.
 */
export async function prepareTree(dir: string, spec: TreeSpec, log: (s: string) => void): Promise<GeneratedTree> {
  const data = join(dir, 'data');
  const manifestPath = join(dir, 'manifest.json');
  if (await exists(manifestPath)) {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8')) as TreeManifest;
      if (JSON.stringify(m.spec) === JSON.stringify(spec)) {
        const t0 = performance.now();
        const baseline = await digestTree(data);
        if (baseline.digest === m.digest) {
          log(`tree: reusing ${data} (${m.stats.files} files, ${fmtBytes(m.stats.bytes)}; verified and page cache warmed in ${secsSince(t0).toFixed(1)} s)`);
          return { dir, data, manifest: m, reused: true, baseline };
        }
        log(`tree: ${data} differs from its manifest; rebuilding`);
      } else log('tree: spec changed; rebuilding');
    } catch (e) {
      log(`tree: unreadable manifest (${String(e)}); rebuilding`);
    }
  } else if (await exists(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) throw new Error(`${dir} is not empty and is not a generated tree; refusing to modify it`);
  }
  const t0 = performance.now();
  log(`tree: writing ${spec.files} files of ${spec.minBytes}–${spec.maxBytes} B into ${data}`);
  await removeTree(manifestPath);
  await removeTree(data);
  await mkdir(data, { recursive: true });
  await writeFile(join(dir, MARKER), 'created by bench/scale.ts\n');
  await writeTree(spec, data, log);
  const stats = await treeStats(data);
  if (stats.files !== spec.files) throw new Error(`tree: wrote ${stats.files} files, expected ${spec.files}`);
  const baseline = await digestTree(data); // also warms the page cache
  const manifest: TreeManifest = { spec, createdAt: new Date().toISOString(), host: hostname(), buildSec: secsSince(t0), stats, digest: baseline.digest };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`tree: built in ${manifest.buildSec.toFixed(1)} s: ${stats.files} files, ${stats.dirs} dirs, ${fmtBytes(stats.bytes)}`);
  return { dir, data, manifest, reused: false, baseline };
}
