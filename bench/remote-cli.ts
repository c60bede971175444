/**
 * The markdown section and the command line of the remote-repository bench steps (bench/rest.ts, bench/sftp.ts):
 * `node bench/<name>.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]` writes
 * bench/results/<stamp>-<name>[-quick].md (+ .json) and <name>-latest.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { corpusSpec, prepareCorpus } from './corpus.ts';
import { STEP_LABELS, aggregate, cpu, failureText, mb, medianOf, ratioCell, rss, secs, table, valueCell, wall } from './report.ts';
import { REMOTE_LABEL, REMOTE_TOOLS, type RemoteBenchResults, type RemoteBenchSpec, type RemoteTool, remoteToolsOf, runRemoteBench } from './remote.ts';

/** The markdown section of a remote step: a table of the timed steps, MB/s of the initial backup, failures, problems. */
export function renderRemoteMarkdown<K extends string>(spec: RemoteBenchSpec<K>, res: RemoteBenchResults<K>, corpusBytes: number): string {
  const spread = res.rounds > 1;
  const has = (t: RemoteTool): boolean => res.tools.includes(t);
  const both = has('pybackup') && has('restic');
  const rows = spec.steps
    .filter((step) => step !== 'init')
    .map((step) => {
      const p = aggregate(res, 'pybackup', step);
      const r = aggregate(res, 'restic', step);
      return [
        STEP_LABELS[step],
        ...(has('pybackup') ? [valueCell(p, wall, secs, spread)] : []),
        ...(has('restic') ? [valueCell(r, wall, secs, spread)] : []),
        ...(both ? [ratioCell(medianOf(p, wall), medianOf(r, wall))] : []),
        ...(has('pybackup') ? [valueCell(p, cpu, secs, false), valueCell(p, rss, mb, false)] : []),
        ...(has('restic') ? [valueCell(r, cpu, secs, false), valueCell(r, rss, mb, false)] : []),
      ];
    });
  const head = [
    'step',
    ...(has('pybackup') ? ['PyBackup wall s'] : []),
    ...(has('restic') ? ['restic wall s'] : []),
    ...(both ? ['PyBackup/restic'] : []),
    ...(has('pybackup') ? ['PyBackup CPU s', 'PyBackup RSS MB'] : []),
    ...(has('restic') ? ['restic CPU s', 'restic RSS MB'] : []),
  ];
  const lines = [spec.heading, '', spec.intro(res), '', table(head, rows)];
  for (const tool of res.tools) {
    const t = spec.rateTools.includes(tool) ? medianOf(aggregate(res, tool, 'initial'), wall) : null;
    if (t) lines.push('', `${REMOTE_LABEL[tool]} initial backup over ${spec.name.toUpperCase()}: ${(corpusBytes / t / 1e6).toFixed(0)} MB/s of corpus.`);
  }
  const bad = res.steps.filter((r) => r.status === 'failed');
  if (bad.length) lines.push('', ...bad.map((r) => `- ${REMOTE_LABEL[r.tool as RemoteTool]} round ${r.round} ${r.step}: ${failureText(r)}`));
  if (res.problems.length) lines.push('', ...res.problems.map((p) => `**PROBLEM:** ${p}`));
  return lines.join('\n');
}

export interface RemoteOnlyOptions {
  quick: boolean;
  rounds: number;
  tools: readonly RemoteTool[];
  timeoutSec: number;
  corpusDir?: string | undefined;
}

/**
 * Runs only one remote step (`node bench/<name>.ts`, `npm run bench -- --<name>-only`): prepares or reuses the corpus,
 * runs the rounds, writes bench/results/<stamp>-<name>[-quick].md (+ .json) and <name>-latest.md. Returns the exit
 * status: 1 on a problem (a restored tree differs), 2 if a command failed, else 0.
 */
export async function runRemoteOnly<K extends string>(spec: RemoteBenchSpec<K>, o: RemoteOnlyOptions): Promise<number> {
  const benchDir = import.meta.dirname;
  const workDir = join(benchDir, 'work');
  const log = (s: string): void => console.error(s);
  const corpus = await prepareCorpus(resolve(o.corpusDir ?? join(workDir, o.quick ? 'corpus-quick' : 'corpus')), corpusSpec(o.quick), log);
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const loadNow = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadStart = loadNow();
  const res = await runRemoteBench(spec, {
    corpus,
    projectRoot: resolve(benchDir, '..'),
    workDir,
    logDir: join(workDir, 'logs', `${stamp}-${spec.name}`),
    rounds: o.rounds,
    tools: o.tools,
    timeoutMs: o.timeoutSec * 1000,
    log,
  });
  const bytes = corpus.manifest.total.bytes;
  const load = `load average ${loadStart} at the start and ${loadNow()} at the end, ${availableParallelism()} CPUs`;
  const md =
    `# PyBackup benchmark: ${spec.name.toUpperCase()} (${stamp}${o.quick ? ', quick' : ''})\n\n` +
    `Corpus: ${corpus.data}, ${(bytes / 1e6).toFixed(0)} MB in ${corpus.manifest.total.files} files; ${load}.\n\n` +
    `${renderRemoteMarkdown(spec, res, bytes)}\n`;
  const results = join(benchDir, 'results');
  await mkdir(results, { recursive: true });
  const name = `${stamp}-${spec.name}${o.quick ? '-quick' : ''}`;
  await writeFile(join(results, `${name}.md`), md);
  await writeFile(join(results, `${name}.json`), `${JSON.stringify(res, null, 2)}\n`);
  await writeFile(join(results, `${spec.name}-latest.md`), md);
  console.log(md);
  return res.problems.length ? 1 : res.steps.some((x) => x.status === 'failed') ? 2 : 0;
}

function positiveInt(value: string, flag: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer${what}`);
  return n;
}

async function parseAndRun(spec: RemoteBenchSpec<string>): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      tools: { type: 'string' },
      timeout: { type: 'string' },
      corpus: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: node bench/${spec.name}.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]`);
    return 0;
  }
  const tools = (values.tools ?? REMOTE_TOOLS.join(',')).split(',').map((x) => x.trim());
  for (const t of tools) if (!(REMOTE_TOOLS as readonly string[]).includes(t)) throw new Error(`--tools: "${t}" is not one of ${REMOTE_TOOLS.join(', ')}`);
  const rounds = positiveInt(values.rounds ?? '1', '--rounds', '');
  const timeoutSec = positiveInt(values.timeout ?? (values.quick ? '600' : '3600'), '--timeout', ' (seconds)');
  return await runRemoteOnly(spec, { quick: values.quick, rounds, tools: remoteToolsOf(tools), timeoutSec, corpusDir: values.corpus });
}

/** The `node bench/<name>.ts` entry point: parses the arguments, runs the step and sets the exit code. */
export async function remoteMain(spec: RemoteBenchSpec<string>): Promise<void> {
  try {
    process.exitCode = await parseAndRun(spec);
  } catch (e) {
    console.error(`bench/${spec.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  }
}
