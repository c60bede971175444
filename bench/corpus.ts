import { copyFile, mkdir, open, readdir, readFile, readlink, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { type TreeStats, MiB, byteOrder, emptyStats, exists, fmtBytes, removeTree, treeStats, walk } from './fsutil.ts';
import { createByteStream, createRng, createTextGen } from './prng.ts';
import { type TreeDigest, digestTree } from './treehash.ts';

/** Everything that determines the corpus; a stored corpus is reused only if its spec is identical. */
export interface CorpusSpec {
  format: number;
  seed: string;
  /** Source-heavy trees copied from this machine, in order, until the budget is reached. A trailing `*` globs the last segment. */
  realSources: string[];
  realBudgetBytes: number;
  /** Larger files are skipped (keeps the real part source-heavy). */
  realMaxFileBytes: number;
  randomFiles: number;
  randomFileBytes: number;
  smallFiles: number;
  smallMinBytes: number;
  smallMaxBytes: number;
}

export interface SourceInfo {
  path: string;
  files: number;
  bytes: number;
  /** The budget ran out inside this tree. */
  partial: boolean;
}

export interface CorpusManifest {
  spec: CorpusSpec;
  createdAt: string;
  host: string;
  parts: { real: TreeStats & { sources: SourceInfo[] }; random: TreeStats; small: TreeStats };
  /** Stats of the whole backed-up tree (`data/`), used to check a reused corpus. */
  total: TreeStats;
  /** Content digest of `data/` (see treehash.ts); a reused corpus must still match it. */
  digest: string;
}

export interface Corpus {
  dir: string;
  /** The directory that is backed up. */
  data: string;
  manifest: CorpusManifest;
  reused: boolean;
  /** Content digest of the pristine corpus; computing it read every file, so the page cache is warm. */
  baseline: TreeDigest;
}

const REAL_SOURCES = [
  '/usr/include',
  '/usr/lib/python3*',
  '/usr/share/perl*',
  '/usr/lib/node_modules',
  '/usr/share/cmake*',
  '/usr/share/vim',
  '/usr/share/doc',
  '/usr/src',
  '/usr/share/i18n',
  '/usr/lib/google-cloud-sdk',
  '/usr/share/man',
  '/usr/lib/llvm-*',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
];

export function corpusSpec(quick: boolean): CorpusSpec {
  return {
    format: 1,
    seed: 'pybackup-bench-1',
    realSources: REAL_SOURCES,
    realBudgetBytes: (quick ? 48 : 400) * MiB,
    realMaxFileBytes: 16 * MiB,
    randomFiles: quick ? 2 : 4,
    randomFileBytes: (quick ? 16 : 64) * MiB,
    smallFiles: quick ? 3000 : 20000,
    smallMinBytes: 100,
    smallMaxBytes: 8 * 1024,
  };
}

export const RANDOM_DIR = 'random';
export const SMALL_DIR = 'small';
export const REAL_DIR = 'real';

export function randomFileName(i: number): string {
  return `rand-${String(i).padStart(2, '0')}.bin`;
}

const MARKER = '.pybackup-bench-corpus';

function secsSince(t0: number): string {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

function sameStats(a: TreeStats, b: TreeStats): boolean {
  return a.files === b.files && a.dirs === b.dirs && a.symlinks === b.symlinks && a.bytes === b.bytes;
}

async function expandSources(patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!p.endsWith('*')) {
      out.push(p);
      continue;
    }
    const parent = dirname(p);
    const prefix = p.slice(parent.length + 1, -1);
    let names: string[] = [];
    try {
      names = await readdir(parent);
    } catch {
      continue;
    }
    for (const n of names.toSorted(byteOrder)) if (n.startsWith(prefix)) out.push(join(parent, n));
  }
  // Drop duplicates and trees that are nested in, or contain, an earlier one (no file is copied twice).
  const result: string[] = [];
  for (const p of out) {
    if (result.some((r) => p === r || p.startsWith(`${r}/`) || r.startsWith(`${p}/`))) continue;
    result.push(p);
  }
  return result;
}

async function tryCopy(src: string, dst: string, mtime: Date, atime: Date): Promise<boolean> {
  try {
    await copyFile(src, dst);
    await utimes(dst, atime, mtime);
    return true;
  } catch {
    return false;
  }
}

async function copyReal(spec: CorpusSpec, dest: string, log: (s: string) => void): Promise<TreeStats & { sources: SourceInfo[] }> {
  const stats = emptyStats();
  const sources: SourceInfo[] = [];
  for (const src of await expandSources(spec.realSources)) {
    if (stats.bytes >= spec.realBudgetBytes) break;
    const st = await stat(src).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    const base = join(dest, src.replace(/^\/+/, ''));
    await mkdir(base, { recursive: true });
    const info: SourceInfo = { path: src, files: 0, bytes: 0, partial: false };
    for await (const e of walk(src)) {
      if (stats.bytes >= spec.realBudgetBytes) {
        info.partial = true;
        break;
      }
      const to = join(base, e.rel);
      if (e.st.isDirectory()) {
        await mkdir(to, { recursive: true });
        stats.dirs++;
      } else if (e.st.isSymbolicLink()) {
        try {
          await symlink(await readlink(e.abs), to);
          stats.symlinks++;
        } catch {
          // unreadable link: skip
        }
      } else if (e.st.isFile() && e.st.size <= spec.realMaxFileBytes) {
        if (await tryCopy(e.abs, to, e.st.mtime, e.st.atime)) {
          stats.files++;
          stats.bytes += e.st.size;
          info.files++;
          info.bytes += e.st.size;
        }
      }
    }
    sources.push(info);
    log(`  copied ${src}: ${info.files} files, ${fmtBytes(info.bytes)}${info.partial ? ' (partial: budget reached)' : ''}`);
  }
  return { ...stats, sources };
}

async function writeRandom(spec: CorpusSpec, dest: string): Promise<TreeStats> {
  await mkdir(dest, { recursive: true });
  const chunk = 4 * MiB;
  for (let i = 0; i < spec.randomFiles; i++) {
    const bytes = createByteStream(`${spec.seed}:random:${i}`);
    const fh = await open(join(dest, randomFileName(i)), 'w');
    try {
      for (let off = 0; off < spec.randomFileBytes; off += chunk) await fh.write(bytes.next(Math.min(chunk, spec.randomFileBytes - off)));
    } finally {
      await fh.close();
    }
  }
  return { files: spec.randomFiles, dirs: 0, symlinks: 0, bytes: spec.randomFiles * spec.randomFileBytes };
}

const SMALL_EXTS = ['txt', 'md', 'json', 'csv', 'log', 'c', 'py'];

/** Many small, mildly compressible files in nested directories (12 x 16 dirs, a quarter of the files one level deeper). */
async function writeSmall(spec: CorpusSpec, dest: string): Promise<TreeStats> {
  const rng = createRng(`${spec.seed}:small`);
  const text = createTextGen(`${spec.seed}:small`);
  const dirs = new Set<string>();
  const jobs: { path: string; size: number }[] = [];
  for (let i = 0; i < spec.smallFiles; i++) {
    let d = join(dest, `grp-${String(rng.int(0, 11)).padStart(2, '0')}`, `sub-${String(rng.int(0, 15)).padStart(2, '0')}`);
    if (rng.chance(0.25)) d = join(d, `deep-${rng.int(0, 3)}`);
    dirs.add(d);
    jobs.push({ path: join(d, `file-${String(i).padStart(5, '0')}.${rng.pick(SMALL_EXTS)}`), size: rng.int(spec.smallMinBytes, spec.smallMaxBytes) });
  }
  for (const d of [...dirs].toSorted(byteOrder)) await mkdir(d, { recursive: true });
  let bytes = 0;
  const contents = jobs.map((j) => {
    bytes += j.size;
    return text.text(j.size);
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const j = jobs[i];
      if (j) await writeFile(j.path, contents[i] ?? '');
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const st = await treeStats(dest);
  if (st.files !== jobs.length || st.bytes !== bytes) throw new Error(`small files: wrote ${st.files} files / ${st.bytes} bytes, expected ${jobs.length} / ${bytes}`);
  return st;
}

/**
 * Builds the corpus under `dir` (backed-up tree in `dir/data`), or reuses it when its manifest has the same spec and the
 * tree still has the recorded file/dir/byte counts. Refuses to touch a non-empty directory it did not create.
 */
export async function prepareCorpus(dir: string, spec: CorpusSpec, log: (s: string) => void): Promise<Corpus> {
  const data = join(dir, 'data');
  const manifestPath = join(dir, 'manifest.json');
  if (await exists(manifestPath)) {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8')) as CorpusManifest;
      if (JSON.stringify(m.spec) === JSON.stringify(spec)) {
        const now = await treeStats(data);
        if (sameStats(now, m.total)) {
          const t0 = performance.now();
          const baseline = await digestTree(data);
          if (baseline.digest === m.digest) {
            log(`corpus: reusing ${data} (${m.total.files} files, ${fmtBytes(m.total.bytes)}; verified and page cache warmed in ${secsSince(t0)} s)`);
            return { dir, data, manifest: m, reused: true, baseline };
          }
          log(`corpus: ${data} content differs from its manifest; rebuilding`);
        } else log(`corpus: ${data} does not match its manifest (now ${now.files} files, ${now.bytes} bytes); rebuilding`);
      } else log('corpus: spec changed; rebuilding');
    } catch (e) {
      log(`corpus: unreadable manifest (${String(e)}); rebuilding`);
    }
  } else if (await exists(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new Error(`${dir} is not empty and is not a benchmark corpus; refusing to modify it (the bench edits the corpus between steps)`);
    }
  }
  const t0 = performance.now();
  log(`corpus: building in ${data}`);
  await removeTree(manifestPath);
  await removeTree(data);
  await mkdir(data, { recursive: true });
  await writeFile(join(dir, MARKER), 'created by bench/run.ts\n');
  log(`  copying real trees (budget ${fmtBytes(spec.realBudgetBytes)}, files <= ${fmtBytes(spec.realMaxFileBytes)})`);
  const real = await copyReal(spec, join(data, REAL_DIR), log);
  log(`  writing ${spec.randomFiles} x ${fmtBytes(spec.randomFileBytes)} random files`);
  const random = await writeRandom(spec, join(data, RANDOM_DIR));
  log(`  writing ${spec.smallFiles} small files`);
  const small = await writeSmall(spec, join(data, SMALL_DIR));
  const total = await treeStats(data);
  const baseline = await digestTree(data); // also warms the page cache
  const manifest: CorpusManifest = {
    spec,
    createdAt: new Date().toISOString(),
    host: hostname(),
    parts: { real, random, small },
    total,
    digest: baseline.digest,
  };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`corpus: built in ${secsSince(t0)} s: ${total.files} files, ${total.dirs} dirs, ${total.symlinks} symlinks, ${fmtBytes(total.bytes)}`);
  return { dir, data, manifest, reused: false, baseline };
}
