/**
 * Benchmark harness: PyBackup vs restic vs borg on a generated corpus. See bench/README.md.
 *
 *   node bench/run.ts [--rounds N] [--quick] [--corpus DIR] [--tools pybackup,restic,borg] [--timeout SEC]
 */
import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Corpus, corpusSpec, prepareCorpus } from './corpus.ts';
import { type EditSummary, applyEdits, describeEdits, revertEdits } from './edits.ts';
import { diskUsage, exists, removeTree } from './fsutil.ts';
import { ensureDependencies } from './install.ts';
import { machineInfo, toolVersion } from './machine.ts';
import { type CommandSpec, killActive, runCapture, runMeasured } from './measure.ts';
import { type BenchResults, type StepName, type StepResult, STEP_LABELS, failureText, renderMarkdown } from './report.ts';
import { type Tool, type ToolName, TOOL_NAMES, isToolName, makeTools, toolPaths } from './tools.ts';
import { type TreeDigest, diffDigests, digestTree } from './treehash.ts';
import { renderSftpMarkdown, runSftpBench, runSftpOnly, sftpToolsOf } from './sftp.ts';
import { renderRestMarkdown, restToolsOf, runRestBench, runRestOnly } from './rest.ts';

const BENCH_DIR = import.meta.dirname;
const PROJECT_ROOT = resolve(BENCH_DIR, '..');
const WORK_DIR = join(BENCH_DIR, 'work');
const RESULTS_DIR = join(BENCH_DIR, 'results');

const USAGE = `usage: npm run bench -- [options]   (or: node bench/run.ts [options])

  --rounds N        rounds per tool (default 3; 1 with --quick)
  --quick           smoke run: small corpus (~100 MB), 1 round, well under 2 minutes
  --corpus DIR      where to build/reuse the corpus (default bench/work/corpus, or
                    bench/work/corpus-quick with --quick); must be empty/absent or a
                    corpus made by this script (it is edited and restored during rounds)
  --tools LIST      comma-separated subset of ${TOOL_NAMES.join(',')} (default: all)
  --timeout SEC     per-command time limit (default 3600; 600 with --quick)
  --sftp            then back up to / restore from an SFTP repository on a local sshd
                    (PyBackup and restic; see bench/sftp.ts)
  --sftp-only       run only that SFTP step (same as node bench/sftp.ts)
  --rest            then back up to / restore from a REST repository (rclone serve restic
                    on 127.0.0.1; PyBackup and restic; see bench/rest.ts)
  --rest-only       run only that REST step (same as node bench/rest.ts)
  -h, --help        this help`;

interface Options {
  rounds: number;
  quick: boolean;
  corpusDir: string;
  tools: ToolName[];
  timeoutSec: number;
  sftp: boolean;
  sftpOnly: boolean;
  rest: boolean;
  restOnly: boolean;
}

function posInt(s: string | undefined, name: string, dflt: number): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${s}"`);
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      corpus: { type: 'string' },
      tools: { type: 'string' },
      timeout: { type: 'string' },
      sftp: { type: 'boolean', default: false },
      'sftp-only': { type: 'boolean', default: false },
      rest: { type: 'boolean', default: false },
      'rest-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const tools: ToolName[] = [];
  for (const t of (values.tools ?? TOOL_NAMES.join(',')).split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
    if (!isToolName(t)) throw new Error(`unknown tool "${t}" (known: ${TOOL_NAMES.join(', ')})`);
    if (!tools.includes(t)) tools.push(t);
  }
  if (tools.length === 0) throw new Error('--tools: no tool selected');
  return {
    rounds: posInt(values.rounds, 'rounds', quick ? 1 : 3),
    quick,
    // Separate default places, so switching between --quick and full runs doesn't rebuild the corpus each time.
    corpusDir: resolve(values.corpus ?? join(WORK_DIR, quick ? 'corpus-quick' : 'corpus')),
    tools,
    timeoutSec: posInt(values.timeout, 'timeout', quick ? 600 : 3600),
    sftp: values.sftp,
    sftpOnly: values['sftp-only'],
    rest: values.rest,
    restOnly: values['rest-only'],
  };
}

const log = (s: string): void => console.error(s);

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  const n = xs.length;
  return xs.map((_, i) => xs[(i + k) % n] as T);
}

/**
 * Restores are written to a tmpfs when there is room: on ext4, creating tens of thousands of files soon after a mass
 * delete is several times slower (the allocator skips recently freed inodes), which made restore times depend on
 * what ran before rather than on the tool. The repositories stay on disk.
 */
function chooseRestoreRoot(corpusBytes: number): string {
  try {
    const st = statfsSync('/dev/shm');
    if (st.type === 0x01021994 && st.bavail * st.bsize > Math.max(corpusBytes, 1 << 30) * 4) return '/dev/shm/pybackup-bench-restore';
  } catch {
    // no /dev/shm: restore on disk
  }
  return join(WORK_DIR, 'restore');
}

/** Reads every file of the corpus once (untimed), so the next command sees a warm page cache. */
async function warmCache(dir: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // (not `tar cf /dev/null`: GNU tar skips reading file data when the archive is /dev/null)
    const c = spawn('sh', ['-c', 'find . -type f -print0 | xargs -0 cat > /dev/null'], { cwd: dir, stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve());
  });
}

/** Finds the restored copy of the corpus inside a restore target (tools differ in how they lay out absolute paths). */
async function locateRestored(target: string, data: string): Promise<{ root: string; layout: string } | null> {
  const candidates: [string, string][] = [
    [join(target, data), '<target>/<corpus abs path>'],
    [join(target, basename(data)), '<target>/<corpus basename>'],
    [target, '<target>'],
  ];
  for (const [root, layout] of candidates) {
    if ((await exists(join(root, 'small'))) || (await exists(join(root, 'random')))) return { root, layout };
  }
  return null;
}

interface ToolState {
  tool: Tool;
  /** First failure in this round; later steps are skipped. */
  broken: string | null;
  seq: number;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.restOnly) return await runRestOnly({ quick: opts.quick, rounds: opts.rounds, tools: restToolsOf(opts.tools), timeoutSec: opts.timeoutSec, corpusDir: opts.corpusDir });
  if (opts.sftpOnly) return await runSftpOnly({ quick: opts.quick, rounds: opts.rounds, tools: sftpToolsOf(opts.tools), timeoutSec: opts.timeoutSec, corpusDir: opts.corpusDir });
  const startedAt = new Date();
  const runStamp = `${stamp(startedAt)}${opts.quick ? '-quick' : ''}`;
  const logDir = join(WORK_DIR, 'logs', runStamp);
  await mkdir(logDir, { recursive: true });
  await mkdir(RESULTS_DIR, { recursive: true });

  // 1. Dependencies.
  const all = makeTools(PROJECT_ROOT);
  const { usable, missing } = await ensureDependencies(
    opts.tools.map((t) => all[t]),
    log,
  );
  for (const [t, why] of missing) log(`WARNING: ${t} will not be run: ${why}`);
  if (usable.length === 0) throw new Error('none of the selected tools is available');

  // 2. Corpus (repairing edits left by an interrupted run first).
  if (await revertEdits(opts.corpusDir)) log('corpus: reverted edits left over by an interrupted run');
  const corpus: Corpus = await prepareCorpus(opts.corpusDir, corpusSpec(opts.quick), log);

  let editsApplied = false;
  const onSignal = (sig: string): void => {
    log(`\n${sig}: stopping the running command and reverting corpus edits`);
    killActive();
    void (editsApplied ? revertEdits(corpus.dir) : Promise.resolve(false)).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  const baseline = corpus.baseline; // computing it read the whole corpus: the page cache is warm

  const versions: BenchResults['tools'] = {};
  for (const t of usable) {
    versions[t.name] = { label: t.label, version: await toolVersion(t, toolPaths(WORK_DIR, t.name)), notes: t.notes };
    log(`${t.label}: ${versions[t.name]?.version}`);
  }

  const results: BenchResults = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    options: { rounds: opts.rounds, quick: opts.quick, tools: usable.map((t) => t.name), corpusDir: corpus.dir, timeoutSec: opts.timeoutSec, logDir },
    machine: await machineInfo(WORK_DIR, corpus.dir),
    tools: versions,
    unavailable: Object.fromEntries(missing),
    corpus: { data: corpus.data, manifest: corpus.manifest, reused: corpus.reused, edits: describeEdits(), editSummary: null },
    steps: [],
    problems: [],
  };
  const problem = (p: string): void => {
    results.problems.push(p);
    log(`\n${'!'.repeat(78)}\n!!! BENCH FAILURE: ${p}\n${'!'.repeat(78)}\n`);
  };

  const timeoutMs = opts.timeoutSec * 1000;
  const run = async (st: ToolState, round: number, position: number, step: StepName, spec: CommandSpec): Promise<StepResult> => {
    const r: StepResult = { round, tool: st.tool.name, position, step, status: 'skipped' };
    results.steps.push(r);
    const prefix = `[round ${round}/${opts.rounds}] ${st.tool.label.padEnd(8)} ${STEP_LABELS[step].padEnd(20)}`;
    if (st.broken !== null) {
      r.reason = st.broken;
      log(`${prefix} skipped: ${r.reason}`);
      return r;
    }
    await runCapture('sync', []); // untimed: don't let the previous command's dirty pages land on this one
    const paths = toolPaths(WORK_DIR, st.tool.name);
    const env = { ...process.env, ...st.tool.env(paths) };
    const m = await runMeasured(spec, env, { timeoutMs, logBase: join(logDir, `r${round}-${st.tool.name}-${step}`) });
    r.measurement = m;
    r.status = m.ok ? 'ok' : 'failed';
    if (!m.ok) {
      st.broken = `${step === 'init' ? 'init' : STEP_LABELS[step]} failed`;
      log(`${prefix} ${failureText(r)}`);
      log(`${' '.repeat(prefix.length)} command: ${m.command}`);
    } else {
      const rss = m.maxRssKb !== null ? `, peak RSS ${((m.maxRssKb * 1024) / 1e6).toFixed(0)} MB` : '';
      log(`${prefix} ${m.wallSec.toFixed(2)} s${rss}`);
    }
    return r;
  };

  let editSummary: EditSummary | null = null;
  const verified: string[] = [];
  const restoreRoot = chooseRestoreRoot(corpus.manifest.total.bytes);
  log(`restores go to ${restoreRoot}${restoreRoot.startsWith('/dev/shm') ? ' (tmpfs)' : ''}`);
  let aborted = false;
  try {
  await removeTree(restoreRoot); // leftovers of an earlier run, long before any timed restore
  for (let round = 1; round <= opts.rounds && !aborted; round++) {
    const order = rotate(usable, (round - 1) % usable.length);
    log(`\n=== round ${round}/${opts.rounds}: ${order.map((t) => t.label).join(' → ')}`);
    const states: ToolState[] = order.map((tool) => ({ tool, broken: null, seq: 0 }));

    // Fresh repositories, caches and restore targets.
    for (const [i, st] of states.entries()) {
      const p = toolPaths(WORK_DIR, st.tool.name);
      await removeTree(p.repo);
      await removeTree(p.cache);
      await removeTree(join(p.restore, `round-${round}`));
      await mkdir(join(WORK_DIR, 'repos'), { recursive: true });
      await mkdir(p.cache, { recursive: true });
      await run(st, round, i + 1, 'init', st.tool.init(p));
    }

    const backupAll = async (step: StepName): Promise<void> => {
      for (const [i, st] of states.entries()) {
        const p = toolPaths(WORK_DIR, st.tool.name);
        const seq = st.seq + 1;
        // Every backup starts from a warm page cache: borg drops the pages of the files it reads
        // (posix_fadvise DONTNEED), which would otherwise hand a cold cache to whichever tool runs after it.
        await warmCache(corpus.data);
        const r = await run(st, round, i + 1, step, st.tool.backup(p, corpus.data, seq));
        if (r.status === 'ok') {
          st.seq = seq;
          r.repo = await diskUsage(p.repo);
        }
      }
    };
    await backupAll('initial');
    await backupAll('unchanged');

    editsApplied = true;
    editSummary = await applyEdits(corpus.data, corpus.dir, corpus.manifest.spec.seed);
    results.corpus.editSummary = editSummary;
    const t0 = performance.now();
    const expected: TreeDigest = await digestTree(corpus.data);
    log(
      `edits applied: ${editSummary.appended} files appended, ${editSummary.rewrittenBytes} bytes rewritten, ` +
        `${editSummary.added} added, ${editSummary.deleted} deleted (corpus re-read in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    await backupAll('edited');

    // Each round restores into a directory of its own, and verified restores are deleted only after the last
    // round: ext4 allocates inodes slowly after a mass delete, which would penalize whichever tool restores next.
    for (const [i, st] of states.entries()) {
      const base = toolPaths(WORK_DIR, st.tool.name, restoreRoot);
      const p = { ...base, restore: join(base.restore, `round-${round}`) };
      await mkdir(p.restore, { recursive: true });
      const r = await run(st, round, i + 1, 'restore', st.tool.restore(p, st.seq));
      if (r.status !== 'ok') continue;
      const found = await locateRestored(p.restore, corpus.data);
      if (!found) {
        r.status = 'failed';
        r.verify = { ok: false, layout: '?', details: [`restored corpus not found under ${p.restore}`] };
      } else {
        const d = diffDigests(expected, await digestTree(found.root));
        r.verify = { ok: d.length === 0, layout: found.layout, details: d };
        if (d.length > 0) r.status = 'failed';
      }
      if (r.verify.ok) {
        log(`${' '.repeat(10)}restore verified OK (${r.verify.layout})`);
        verified.push(p.restore);
      } else {
        problem(`${st.tool.label} round ${round}: restored tree differs from the corpus: ${r.verify.details.join('; ')} (kept in ${p.restore})`);
      }
    }

    if (restoreRoot.startsWith('/dev/shm')) for (const dir of verified.splice(0)) await removeTree(dir);
    for (const [i, st] of states.entries()) await run(st, round, i + 1, 'check', st.tool.check(toolPaths(WORK_DIR, st.tool.name, restoreRoot)));
    await revertEdits(corpus.dir);
    editsApplied = false;
    const after = await digestTree(corpus.data);
    const d = diffDigests(baseline, after);
    if (d.length > 0) {
      problem(`corpus differs from its original state after reverting the edits (${d.join('; ')}); aborting, delete ${corpus.dir} to rebuild it`);
      aborted = true;
    }
  }
  } finally {
    if (editsApplied) await revertEdits(corpus.dir);
    for (const dir of verified) await removeTree(dir);
  }

  const sftp = opts.sftp
    ? await runSftpBench({ corpus, projectRoot: PROJECT_ROOT, workDir: WORK_DIR, logDir, rounds: opts.rounds, tools: sftpToolsOf(usable.map((t) => t.name)), timeoutMs, log })
    : undefined;
  if (sftp) results.problems.push(...sftp.problems);
  const rest = opts.rest
    ? await runRestBench({ corpus, projectRoot: PROJECT_ROOT, workDir: WORK_DIR, logDir, rounds: opts.rounds, tools: restToolsOf(usable.map((t) => t.name)), timeoutMs, log })
    : undefined;
  if (rest) results.problems.push(...rest.problems);
  results.finishedAt = new Date().toISOString();
  results.machine.loadAvgEnd = loadavg()[0] ?? null;
  const sections = [renderMarkdown(results), ...(sftp ? [renderSftpMarkdown(sftp, corpus.manifest.total.bytes)] : []), ...(rest ? [renderRestMarkdown(rest, corpus.manifest.total.bytes)] : [])];
  const md = sections.join('\n\n');
  const json = `${JSON.stringify({ ...results, ...(sftp ? { sftp } : {}), ...(rest ? { rest } : {}) }, null, 2)}\n`;
  await writeFile(join(RESULTS_DIR, `${runStamp}.md`), `${md}\n`);
  await writeFile(join(RESULTS_DIR, `${runStamp}.json`), json);
  await writeFile(join(RESULTS_DIR, 'latest.md'), `${md}\n`);
  await writeFile(join(RESULTS_DIR, 'latest.json'), json);
  console.log(md);
  log(`\nresults: bench/results/${runStamp}.md (+ .json), bench/results/latest.md; command logs: ${logDir}`);

  if (results.problems.length > 0) {
    log(`\nBENCH FAILED: ${results.problems.length} problem(s):\n${results.problems.map((p) => `  - ${p}`).join('\n')}`);
    return 1;
  }
  const failed = results.steps.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    log(`\n${failed.length} command(s) failed (see the Failures table)`);
    return 2;
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  log(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
