/**
 * Scale scenario 1, many small files: initial backup, unchanged re-backup and full restore of a generated tree of N
 * small files, for each selected tool. See bench/README.md ("Scale scenarios").
 */
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { diskUsage, exists, removeTree } from '../fsutil.ts';
import { ensureDependencies } from '../install.ts';
import { type MachineInfo, machineInfo, toolVersion } from '../machine.ts';
import { type CommandSpec, runMeasured } from '../measure.ts';
import { type StepName, type StepResult, STEP_LABELS, failureText } from '../report.ts';
import { type ToolName, makeTools, toolPaths } from '../tools.ts';
import { diffDigests, digestTree } from '../treehash.ts';
import { COMPILE_CACHE, PROJECT_ROOT, SCALE_WORK, chooseRestoreRoot, fmtCount, log, stamp, syncDisks, warmCache, warmUpPybackup, writeResults } from './common.ts';
import { renderFilesMarkdown } from './report.ts';
import { type TreeManifest, manyFilesSpec, prepareTree } from './tree.ts';

export interface FilesOptions {
  files: number;
  rounds: number;
  tools: ToolName[];
  timeoutSec: number;
}

export interface FilesResults {
  schema: 1;
  kind: 'scale-files';
  startedAt: string;
  finishedAt: string;
  options: FilesOptions & { logDir: string; restoreRoot: string };
  machine: MachineInfo;
  tools: Partial<Record<ToolName, { label: string; version: string }>>;
  unavailable: Partial<Record<ToolName, string>>;
  tree: { data: string; manifest: TreeManifest; reused: boolean };
  steps: StepResult[];
  problems: string[];
}

/** Runs the scenario; returns the process exit status (0 ok, 1 restore mismatch, 2 a command failed). */
export async function runFiles(o: FilesOptions): Promise<number> {
  const startedAt = new Date();
  const runStamp = stamp(startedAt);
  const work = join(SCALE_WORK, 'files-run');
  const logDir = join(SCALE_WORK, 'logs', `${runStamp}-files`);
  await mkdir(logDir, { recursive: true });

  const all = makeTools(PROJECT_ROOT);
  const { usable, missing } = await ensureDependencies(o.tools.map((t) => all[t]), log);
  for (const [t, why] of missing) log(`WARNING: ${t} will not be run: ${why}`);
  if (usable.length === 0) throw new Error('none of the selected tools is available');

  const tree = await prepareTree(join(SCALE_WORK, `files-${fmtCount(o.files)}`), manyFilesSpec(o.files), log);
  const restoreRoot = chooseRestoreRoot(tree.manifest.stats.bytes * 2, join(work, 'restore'));
  log(`restores go to ${restoreRoot}`);
  const res: FilesResults = {
    schema: 1,
    kind: 'scale-files',
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    options: { ...o, tools: usable.map((t) => t.name), logDir, restoreRoot },
    machine: await machineInfo(SCALE_WORK, tree.dir),
    tools: {},
    unavailable: Object.fromEntries(missing),
    tree: { data: tree.data, manifest: tree.manifest, reused: tree.reused },
    steps: [],
    problems: [],
  };
  for (const t of usable) res.tools[t.name] = { label: t.label, version: await toolVersion(t, toolPaths(work, t.name)) };

  const timeoutMs = o.timeoutSec * 1000;
  if (usable.some((t) => t.name === 'pybackup')) await warmUpPybackup(all.pybackup.binary, { ...process.env, ...all.pybackup.env(toolPaths(work, 'pybackup')) });
  await removeTree(restoreRoot);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      const order = usable.map((_, i) => usable[(i + round - 1) % usable.length]).filter((t) => t !== undefined);
      log(`\n=== round ${round}/${o.rounds}: ${order.map((t) => t.label).join(' → ')}`);
      for (const [i, tool] of order.entries()) {
        const p = { ...toolPaths(work, tool.name, restoreRoot) };
        p.restore = join(p.restore, `round-${round}`);
        const env = { ...process.env, ...tool.env(p), ...(tool.name === 'pybackup' ? { NODE_COMPILE_CACHE: COMPILE_CACHE } : {}) };
        let broken: string | null = null;
        const step = async (name: StepName, spec: CommandSpec): Promise<StepResult> => {
          const r: StepResult = { round, tool: tool.name, position: i + 1, step: name, status: 'skipped' };
          res.steps.push(r);
          const prefix = `[round ${round}] ${tool.label.padEnd(8)} ${STEP_LABELS[name].padEnd(20)}`;
          if (broken !== null) {
            r.reason = broken;
            log(`${prefix} skipped: ${broken}`);
            return r;
          }
          await syncDisks();
          const m = await runMeasured(spec, env, { timeoutMs, logBase: join(logDir, `r${round}-${tool.name}-${name}`) });
          r.measurement = m;
          r.status = m.ok ? 'ok' : 'failed';
          if (!m.ok) {
            broken = `${STEP_LABELS[name]} failed`;
            log(`${prefix} ${failureText(r)}`);
          } else log(`${prefix} ${m.wallSec.toFixed(2)} s, CPU ${((m.userSec ?? 0) + (m.sysSec ?? 0)).toFixed(2)} s, peak RSS ${(((m.maxRssKb ?? 0) * 1024) / 1e6).toFixed(0)} MB`);
          return r;
        };
        // Fresh repository, cache and restore target for every tool in every round.
        await removeTree(p.repo);
        await removeTree(p.cache);
        await removeTree(p.restore);
        await mkdir(join(work, 'repos'), { recursive: true });
        await mkdir(p.cache, { recursive: true });
        await step('init', tool.init(p));
        for (const [seq, name] of (['initial', 'unchanged'] as const).entries()) {
          await warmCache(tree.data); // borg drops the pages it read; every backup starts warm
          const r = await step(name, tool.backup(p, tree.data, seq + 1));
          if (r.status === 'ok') r.repo = await diskUsage(p.repo);
        }
        await mkdir(p.restore, { recursive: true });
        const r = await step('restore', tool.restore(p, 2));
        if (r.status === 'ok') {
          const root = join(p.restore, tree.data);
          const d = (await exists(root)) ? diffDigests(tree.baseline, await digestTree(root)) : [`restored tree not found at ${root}`];
          r.verify = { ok: d.length === 0, layout: '<target>/<tree abs path>', details: d };
          if (d.length === 0) {
            log(`${' '.repeat(10)}restore verified OK`);
            await removeTree(p.restore);
          } else {
            r.status = 'failed';
            res.problems.push(`${tool.label} round ${round}: restored tree differs: ${d.join('; ')} (kept in ${p.restore})`);
            log(`!!! ${res.problems.at(-1) ?? ''}`);
          }
        }
        await removeTree(p.repo); // 1M-file repositories are big; keep the disk from filling up over rounds
      }
    }
  } finally {
    res.finishedAt = new Date().toISOString();
    res.machine.loadAvgEnd = loadavg()[0] ?? null;
  }
  const md = renderFilesMarkdown(res);
  console.log(md);
  // the 1M-file run (PyBackup only) keeps its own "latest", so it never replaces the 500k comparison with restic
  const latest = o.files >= 1_000_000 ? 'scale-million-latest.md' : 'scale-latest.md';
  log(`\nresults: ${await writeResults(runStamp, `scale-files-${fmtCount(o.files)}`, latest, md, res)}; command logs: ${logDir}`);
  if (res.problems.length > 0) return 1;
  return res.steps.some((s) => s.status === 'failed') ? 2 : 0;
}
