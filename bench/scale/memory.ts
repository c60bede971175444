/**
 * Scale scenario 2, memory against repository size: for each K, a synthetic repository of K blobs (synth-repo.ts);
 * then a cold catalog rebuild (`snapshots`), a blob-lookup probe (lookup.ts), and backups of a small fixed source with
 * the catalog synced and with it deleted. See bench/README.md ("Scale scenarios").
 */
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { diskUsage, removeTree, walk } from '../fsutil.ts';
import { type MachineInfo, machineInfo, toolVersion } from '../machine.ts';
import { type CommandSpec, type Measurement, runMeasured } from '../measure.ts';
import { PASSWORD, makeTools, toolPaths } from '../tools.ts';
import { BENCH_DIR, COMPILE_CACHE, PROJECT_ROOT, SCALE_WORK, fmtCount, log, stamp, syncDisks, warmCache, warmUpPybackup, writeResults } from './common.ts';
import type { LookupResult } from './lookup.ts';
import { renderMemoryMarkdown } from './report.ts';
import { type SynthManifest, prepareSynthRepo, synthSpec } from './synth-repo.ts';
import { type TreeManifest, memorySourceSpec, prepareTree } from './tree.ts';

export interface MemoryOptions {
  chunks: number[];
  rounds: number;
  lookups: number;
  timeoutSec: number;
}

export interface MemoryRow {
  chunks: number;
  synth: SynthManifest;
  synthReused: boolean;
  repoBytes: number;
  catalogBytes: number | null;
  /** `snapshots` with no catalog: rebuilds it from every index file. */
  rebuild: Measurement | null;
  lookup: (LookupResult & { measurement: Measurement }) | null;
  /** Backups with the catalog synced beforehand (one per round). */
  warm: Measurement[];
  /** Backups with the catalog deleted first (one per round). */
  cold: Measurement[];
  /** Browsing the snapshot of the first synced backup (synced catalog): `ls -l -R`, `find` twice (the first fills the tree catalog). */
  browse: { ls: Measurement; findFirst: Measurement; findAgain: Measurement } | null;
}

export interface MemoryResults {
  schema: 1;
  kind: 'scale-memory';
  startedAt: string;
  finishedAt: string;
  options: MemoryOptions & { logDir: string };
  machine: MachineInfo;
  pybackup: string;
  source: { data: string; manifest: TreeManifest };
  rows: MemoryRow[];
  problems: string[];
}

/** Every file under `root`, relative. */
async function fileSet(root: string): Promise<Set<string>> {
  const s = new Set<string>();
  for await (const e of walk(root)) if (!e.st.isDirectory()) s.add(e.rel);
  return s;
}

/** Deletes what a measured command added to the repository (packs, index, snapshot, locks); returns the new snapshot count. */
async function resetRepo(repo: string, baseline: Set<string>): Promise<number> {
  let snapshots = 0;
  for (const rel of await fileSet(repo)) {
    if (baseline.has(rel)) continue;
    if (rel.startsWith('snapshots/')) snapshots++;
    await removeTree(join(repo, rel));
  }
  return snapshots;
}

export async function runMemory(o: MemoryOptions): Promise<number> {
  const startedAt = new Date();
  const runStamp = stamp(startedAt);
  const logDir = join(SCALE_WORK, 'logs', `${runStamp}-memory`);
  await mkdir(logDir, { recursive: true });
  const tool = makeTools(PROJECT_ROOT).pybackup;
  const source = await prepareTree(join(SCALE_WORK, 'mem-source'), memorySourceSpec(), log);
  // The catalog lives in PYBACKUP_CACHE_DIR/<repository id>/; Node's compile cache is kept apart, so deleting a
  // catalog never makes a command recompile the CLI.
  const cacheDir = join(SCALE_WORK, 'mem-cache');
  const env = { ...process.env, PYBACKUP_PASSWORD: PASSWORD, PYBACKUP_CACHE_DIR: cacheDir, NODE_COMPILE_CACHE: COMPILE_CACHE };
  const res: MemoryResults = {
    schema: 1,
    kind: 'scale-memory',
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    options: { ...o, logDir },
    machine: await machineInfo(SCALE_WORK, source.dir),
    pybackup: await toolVersion(tool, toolPaths(SCALE_WORK, 'pybackup')),
    source: { data: source.data, manifest: source.manifest },
    rows: [],
    problems: [],
  };
  const timeoutMs = o.timeoutSec * 1000;
  const measure = async (label: string, spec: CommandSpec, logName: string): Promise<Measurement> => {
    await syncDisks();
    const m = await runMeasured(spec, env, { timeoutMs, logBase: join(logDir, logName) });
    const rss = m.maxRssKb !== null ? `${((m.maxRssKb * 1024) / 1e6).toFixed(0)} MB` : '?';
    log(`  ${label.padEnd(34)} ${m.ok ? `${m.wallSec.toFixed(2)} s, peak RSS ${rss}` : `FAILED: ${m.tail}`}`);
    if (!m.ok) res.problems.push(`${label} (${logName}): ${m.timedOut ? 'timed out' : `exit ${m.exitCode ?? m.signal ?? '?'}`}: ${m.tail}`);
    return m;
  };
  const pyb = (args: string[]): CommandSpec => ({ cmd: tool.binary, args });
  await warmUpPybackup(tool.binary, env);

  for (const k of o.chunks) {
    log(`\n=== ${fmtCount(k)} chunks`);
    const synth = await prepareSynthRepo(join(SCALE_WORK, 'mem', `k-${fmtCount(k)}`), synthSpec(k), log);
    const catalogDir = join(cacheDir, synth.manifest.repoId);
    const pristine = join(synth.dir, 'catalog-synced');
    const baseline = synth.baseline;
    const leftovers = await resetRepo(synth.repo, baseline); // e.g. from an interrupted run
    if (leftovers > 0) log(`  removed ${leftovers} snapshot(s) left over by an earlier run`);
    const row: MemoryRow = {
      chunks: k, synth: synth.manifest, synthReused: synth.reused, repoBytes: (await diskUsage(synth.repo)).apparentBytes,
      catalogBytes: null, rebuild: null, lookup: null, warm: [], cold: [], browse: null,
    };
    res.rows.push(row);
    const backup = pyb(['-r', synth.repo, 'backup', '--quiet', '--host', 'bench', source.data]);
    const name = `k${fmtCount(k)}`;

    await removeTree(catalogDir);
    row.rebuild = await measure('catalog rebuild (snapshots, cold)', pyb(['-r', synth.repo, 'snapshots']), `${name}-rebuild`);
    if (!row.rebuild.ok) continue;
    row.catalogBytes = (await stat(join(catalogDir, 'catalog.db'))).size;
    await removeTree(pristine);
    await cp(catalogDir, pristine, { recursive: true });

    const probe = { cmd: process.execPath, args: ['--no-warnings', join(BENCH_DIR, 'scale', 'lookup.ts'), join(catalogDir, 'catalog.db'), synth.idsFile, String(o.lookups)] };
    const lm = await measure(`lookups (${fmtCount(o.lookups)} each)`, probe, `${name}-lookup`);
    if (lm.ok) {
      const lr = JSON.parse((await readFile(`${lm.logBase}.out`, 'utf8')).trim()) as LookupResult;
      row.lookup = { ...lr, measurement: lm };
      log(`  ${''.padEnd(34)} µs per lookup: present ${lr.presentHasUs.toFixed(2)}, absent ${lr.absentHasUs.toFixed(2)}, blob() ${lr.presentBlobUs.toFixed(2)}`);
      if (!lr.ok) res.problems.push(`${fmtCount(k)} chunks: the lookup probe got wrong answers (a sampled id was missing or a random id was found)`);
    }

    for (let round = 1; round <= o.rounds; round++) {
      for (const kind of ['warm', 'cold'] as const) {
        await removeTree(catalogDir);
        if (kind === 'warm') await cp(pristine, catalogDir, { recursive: true });
        await warmCache(source.data);
        const m = await measure(`backup, ${kind === 'warm' ? 'synced catalog' : 'no catalog (rebuilt)'}, round ${round}`, backup, `${name}-r${round}-${kind}`);
        row[kind].push(m);
        if (kind === 'warm' && round === 1 && m.ok) {
          // "find and ls stay interactive": browse the new snapshot in the K-chunk repository
          const ls = await measure('ls -l -R latest', pyb(['-r', synth.repo, 'ls', '-l', '-R', 'latest']), `${name}-ls`);
          const findFirst = await measure("find 'f-*7.txt' (first)", pyb(['-r', synth.repo, 'find', 'f-*7.txt']), `${name}-find1`);
          const findAgain = await measure("find 'f-*7.txt' (again)", pyb(['-r', synth.repo, 'find', 'f-*7.txt']), `${name}-find2`);
          row.browse = { ls, findFirst, findAgain };
        }
        const snaps = await resetRepo(synth.repo, baseline);
        if (m.ok && snaps !== 1) res.problems.push(`${fmtCount(k)} chunks, ${kind} backup round ${round}: expected 1 new snapshot, found ${snaps}`);
      }
    }
    await removeTree(catalogDir);
  }
  res.finishedAt = new Date().toISOString();
  res.machine.loadAvgEnd = loadavg()[0] ?? null;
  const md = renderMemoryMarkdown(res);
  console.log(md);
  log(`\nresults: ${await writeResults(runStamp, 'scale-memory', 'scale-memory-latest.md', md, res)}; command logs: ${logDir}`);
  return res.problems.length > 0 ? 2 : 0;
}
