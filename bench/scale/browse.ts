/**
 * Scale scenario 3, browsing: `ls -l` (recursive long listing) of the latest snapshot of N small files, and `find`
 * across S snapshots of that tree, for PyBackup and restic on the same content. See bench/README.md.
 *
 * Each tool gets a fresh repository with S snapshots of the tree plus a small directory that changes every time
 * (so snapshots differ at the root, as incremental backups do, while most subtrees are shared). Measured per round:
 * the listing, a first `find` (PyBackup: with an empty tree catalog) and the same `find` again.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { ensureDependencies } from '../install.ts';
import { machineInfo, toolVersion } from '../machine.ts';
import { type CommandSpec, type Measurement, runMeasured } from '../measure.ts';
import { median, secs } from '../report.ts';
import { PASSWORD, type ToolName, makeTools, toolPaths } from '../tools.ts';
import { COMPILE_CACHE, PROJECT_ROOT, SCALE_WORK, fmtCount, log, stamp, syncDisks, warmUpPybackup, writeResults } from './common.ts';
import { manyFilesSpec, prepareTree } from './tree.ts';

export interface BrowseOptions {
  files: number;
  snapshots: number;
  rounds: number;
  timeoutSec: number;
}

const STEPS = ['ls', 'find1', 'find2'] as const;
type Step = (typeof STEPS)[number];
const LABEL: Record<Step, string> = { ls: 'ls -l, recursive, latest', find1: 'find, first run', find2: 'find, again' };
/** Matches 1 file in 1000 of the generated tree (names f-NNNNNN.txt) in every snapshot. */
const PATTERN = 'f-*777.txt';
const TARGET = 1.0;

interface Row {
  round: number;
  tool: ToolName;
  step: Step;
  m: Measurement;
  /** result lines counted from the output (listed nodes / matches) */
  count: number;
}

const TOOLS: ToolName[] = ['pybackup', 'restic'];

function commands(tool: ToolName, repo: string): Record<Step, CommandSpec> & { backup: (paths: string[]) => CommandSpec; init: CommandSpec } {
  if (tool === 'pybackup') {
    const bin = makeTools(PROJECT_ROOT).pybackup.binary;
    return {
      init: { cmd: bin, args: ['-r', repo, 'init'] },
      backup: (paths) => ({ cmd: bin, args: ['-r', repo, 'backup', '--quiet', '--host', 'bench', ...paths] }),
      ls: { cmd: bin, args: ['-r', repo, 'ls', '-l', '-R', 'latest'] },
      find1: { cmd: bin, args: ['-r', repo, 'find', PATTERN] },
      find2: { cmd: bin, args: ['-r', repo, 'find', PATTERN] },
    };
  }
  return {
    init: { cmd: 'restic', args: ['-r', repo, 'init'] },
    backup: (paths) => ({ cmd: 'restic', args: ['-r', repo, 'backup', '--quiet', '--host', 'bench', ...paths] }),
    ls: { cmd: 'restic', args: ['-r', repo, 'ls', '-l', 'latest'] },
    find1: { cmd: 'restic', args: ['-r', repo, 'find', PATTERN] },
    find2: { cmd: 'restic', args: ['-r', repo, 'find', PATTERN] },
  };
}

/** Listed nodes (ls) or matches (find): path lines, without headers and blank lines. */
async function countResults(logBase: string, step: Step): Promise<number> {
  const out = await readFile(`${logBase}.out`, 'utf8').catch(() => '');
  return out.split('\n').filter((l) => l !== '' && !l.startsWith('snapshot ') && !l.startsWith('Found matching entries') && (step === 'ls' || l.includes('/'))).length;
}

export async function runBrowse(o: BrowseOptions): Promise<number> {
  const startedAt = new Date();
  const runStamp = stamp(startedAt);
  const work = join(SCALE_WORK, 'browse-run');
  const logDir = join(SCALE_WORK, 'logs', `${runStamp}-browse`);
  await mkdir(logDir, { recursive: true });
  const all = makeTools(PROJECT_ROOT);
  const { usable, missing } = await ensureDependencies(TOOLS.map((t) => all[t]), log);
  for (const [t, why] of missing) log(`WARNING: ${t} will not be run: ${why}`);
  const tree = await prepareTree(join(SCALE_WORK, `files-${fmtCount(o.files)}`), manyFilesSpec(o.files), log);
  const extra = join(work, 'changing');
  const rows: Row[] = [];
  const problems: string[] = [];
  const versions: Record<string, string> = {};
  for (const t of usable) versions[t.label] = await toolVersion(t, toolPaths(work, t.name));
  if (usable.some((t) => t.name === 'pybackup')) await warmUpPybackup(all.pybackup.binary, { ...process.env, PYBACKUP_PASSWORD: PASSWORD });
  const machine = await machineInfo(SCALE_WORK, tree.dir);
  const timeoutMs = o.timeoutSec * 1000;
  for (let round = 1; round <= o.rounds; round++) {
    for (const tool of round % 2 === 1 ? usable : [...usable].reverse()) {
      const p = toolPaths(work, tool.name);
      const env = { ...process.env, ...tool.env(p), ...(tool.name === 'pybackup' ? { NODE_COMPILE_CACHE: COMPILE_CACHE } : {}) };
      const cmd = commands(tool.name, p.repo);
      await removeTree(p.repo);
      await removeTree(p.cache);
      await removeTree(extra);
      await mkdir(extra, { recursive: true });
      await mkdir(p.cache, { recursive: true });
      await mkdir(join(work, 'repos'), { recursive: true });
      const run = async (name: string, spec: CommandSpec): Promise<Measurement> => {
        await syncDisks();
        const m = await runMeasured(spec, env, { timeoutMs, logBase: join(logDir, `r${round}-${tool.name}-${name}`) });
        if (!m.ok) problems.push(`${tool.label} round ${round}: ${name} failed: ${m.tail}`);
        return m;
      };
      if (!(await run('init', cmd.init)).ok) continue;
      const t0 = performance.now();
      let backupsOk = true;
      for (let s = 1; s <= o.snapshots && backupsOk; s++) {
        await writeFile(join(extra, 'generation.txt'), `snapshot ${s}\n`);
        await writeFile(join(extra, `added-${s}.txt`), `added in snapshot ${s}\n`);
        backupsOk = (await run(`backup-${s}`, cmd.backup([tree.data, extra]))).ok;
      }
      log(`[round ${round}] ${tool.label.padEnd(8)} ${o.snapshots} backups in ${((performance.now() - t0) / 1000).toFixed(1)} s (untimed setup)`);
      if (!backupsOk) continue;
      for (const step of STEPS) {
        const m = await run(step, cmd[step]);
        const count = await countResults(m.logBase, step);
        rows.push({ round, tool: tool.name, step, m, count });
        log(`[round ${round}] ${tool.label.padEnd(8)} ${LABEL[step].padEnd(26)} ${m.ok ? `${m.wallSec.toFixed(2)} s, CPU ${((m.userSec ?? 0) + (m.sysSec ?? 0)).toFixed(2)} s, peak RSS ${(((m.maxRssKb ?? 0) * 1024) / 1e6).toFixed(0)} MB, ${count} lines` : 'FAILED'}`);
      }
      await rm(p.repo, { recursive: true, force: true });
    }
  }
  // the tools must agree on what they list and find
  for (const step of STEPS) {
    const counts = new Set(rows.filter((r) => r.step === step && r.m.ok).map((r) => r.count));
    if (counts.size > 1) problems.push(`${LABEL[step]}: the tools disagree on the number of results (${[...counts].join(' vs ')})`);
  }
  const md = render(o, rows, problems, { tree: tree.data, files: tree.manifest.stats.files, versions, startedAt, machine: `${machine.cpuModel}, nproc ${machine.nproc}, load ${loadavg()[0]?.toFixed(2)}` });
  console.log(md);
  log(`\nresults: ${await writeResults(runStamp, `scale-browse-${fmtCount(o.files)}`, 'scale-browse-latest.md', md, { options: o, rows, problems })}; command logs: ${logDir}`);
  return problems.length > 0 ? 2 : 0;
}

function render(o: BrowseOptions, rows: Row[], problems: string[], info: { tree: string; files: number; versions: Record<string, string>; startedAt: Date; machine: string }): string {
  const med = (tool: ToolName, step: Step, f: (m: Measurement) => number): number | null => median(rows.filter((r) => r.tool === tool && r.step === step && r.m.ok).map((r) => f(r.m)));
  const wall = (m: Measurement): number => m.wallSec;
  const cpu = (m: Measurement): number => (m.userSec ?? 0) + (m.sysSec ?? 0);
  const rss = (m: Measurement): number => ((m.maxRssKb ?? 0) * 1024) / 1e6;
  const cell = (v: number | null, f: (x: number) => string = secs): string => (v === null ? 'n/a' : f(v));
  const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`);
  const table = (title: string, f: (m: Measurement) => number, fmt?: (x: number) => string): string[] => [
    `## ${title}`,
    '',
    '| Step | PyBackup | restic | PyBackup/restic |',
    '| --- | ---: | ---: | ---: |',
    ...STEPS.map((s) => `| ${LABEL[s]} | ${cell(med('pybackup', s, f), fmt)} | ${cell(med('restic', s, f), fmt)} | ${ratio(med('pybackup', s, f), med('restic', s, f))} |`),
    '',
  ];
  const targets = STEPS.map((s) => {
    const r = ratio(med('pybackup', s, wall), med('restic', s, wall));
    const v = Number.parseFloat(r);
    return `| ${LABEL[s]}: PyBackup/restic wall time | ${r} | ≤ ${TARGET.toFixed(2)}x | ${Number.isNaN(v) ? 'n/a' : v <= TARGET ? 'yes' : '**NO**'} |`;
  });
  const counts = STEPS.map((s) => `${LABEL[s]}: ${[...new Set(rows.filter((r) => r.step === s).map((r) => `${r.tool} ${r.count}`))].join(', ')}`);
  return [
    `# PyBackup browse benchmark: ${fmtCount(o.files)} files, ${o.snapshots} snapshots — ${info.startedAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`,
    '',
    `- **Tree:** ${info.tree}: ${info.files} files (backed up together with a small directory that changes every snapshot).`,
    `- **Commands:** PyBackup \`ls -l -R latest\`, \`find '${PATTERN}'\` (twice: the first fills the tree catalog); restic \`ls -l latest\`, \`find '${PATTERN}'\` (twice). Output to a log file.`,
    `- **Rounds:** ${o.rounds}; **machine:** ${info.machine}; **versions:** ${Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join('; ')}.`,
    `- **Result lines:** ${counts.join('; ')}.`,
    '',
    '## Targets',
    '',
    '| Target | Ratio | Target | Met |',
    '| --- | ---: | ---: | ---: |',
    ...targets,
    '',
    ...table('Wall time (s, median)', wall),
    ...table('CPU time (user+sys s, median)', cpu),
    ...table('Peak RSS (MB, median)', rss, (x) => x.toFixed(1)),
    ...(problems.length > 0 ? ['## Problems', '', ...problems.map((p) => `- ${p}`), ''] : []),
  ].join('\n');
}
