import type { CorpusManifest } from './corpus.ts';
import type { EditSummary } from './edits.ts';
import type { DiskUsage } from './fsutil.ts';
import type { MachineInfo } from './machine.ts';
import type { Measurement } from './measure.ts';
import type { ToolName } from './tools.ts';

export const STEPS = ['init', 'initial', 'unchanged', 'edited', 'restore', 'check'] as const;
export type StepName = (typeof STEPS)[number];
/** Steps that appear in the timing tables (init is run but not timed). */
export const TIMED_STEPS = ['initial', 'unchanged', 'edited', 'restore', 'check'] as const satisfies readonly StepName[];
export const BACKUP_STEPS = ['initial', 'unchanged', 'edited'] as const satisfies readonly StepName[];

export const STEP_LABELS: Record<StepName, string> = {
  init: 'init (untimed)',
  initial: 'initial backup',
  unchanged: 'unchanged re-backup',
  edited: 'backup after edits',
  restore: 'restore latest',
  check: 'check --read-data',
};

export interface Verification {
  ok: boolean;
  /** Where the restored corpus was found, relative to the restore target. */
  layout: string;
  details: string[];
}

export interface StepResult {
  round: number;
  tool: ToolName;
  /** Position of the tool in this round's order (1-based). */
  position: number;
  step: StepName;
  status: 'ok' | 'failed' | 'skipped';
  measurement?: Measurement;
  /** Why a step was skipped, or a one-line failure summary. */
  reason?: string;
  /** Repository size after a backup step. */
  repo?: DiskUsage;
  verify?: Verification;
}

export interface BenchResults {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  options: { rounds: number; quick: boolean; tools: ToolName[]; corpusDir: string; timeoutSec: number; logDir: string };
  machine: MachineInfo;
  tools: Partial<Record<ToolName, { label: string; version: string; notes: string }>>;
  unavailable: Partial<Record<ToolName, string>>;
  corpus: { data: string; manifest: CorpusManifest; reused: boolean; edits: string; editSummary: EditSummary | null };
  steps: StepResult[];
  /** Loud failures: restore mismatches, corpus problems. */
  problems: string[];
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.toSorted((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
export const secs = (s: number): string => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));

/** "FAILED (exit 2)", "TIMED OUT", "MISMATCH", ... */
export function shortFailure(r: StepResult): string {
  if (r.verify && !r.verify.ok) return 'MISMATCH';
  const m = r.measurement;
  if (!m) return 'FAILED';
  return m.timedOut ? 'TIMED OUT' : m.signal ? `FAILED (${m.signal})` : `FAILED (exit ${m.exitCode ?? '?'})`;
}

/** "FAILED (exit N): stderr tail" */
export function failureText(r: StepResult): string {
  if (r.verify && !r.verify.ok) return `MISMATCH of restored tree: ${r.verify.details.join('; ')}`;
  if (!r.measurement) return `FAILED: ${r.reason ?? '?'}`;
  return `${shortFailure(r)}: ${r.measurement.tail || '(no output)'}`;
}

export function cellEscape(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** `rightFrom`: index of the first right-aligned (numeric) column. */
export function table(head: string[], rows: string[][], rightFrom = 1): string {
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < rightFrom ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.map(cellEscape).join(' | ')} |`);
  return lines.join('\n');
}

export interface Agg {
  /** Successful results. */
  ok: StepResult[];
  failed: StepResult[];
  skipped: StepResult[];
}

export function aggregate(res: { readonly steps: readonly StepResult[] }, tool: ToolName, step: StepName): Agg {
  const rs = res.steps.filter((r) => r.tool === tool && r.step === step);
  return { ok: rs.filter((r) => r.status === 'ok'), failed: rs.filter((r) => r.status === 'failed'), skipped: rs.filter((r) => r.status === 'skipped') };
}

export function medianOf(a: Agg, f: (r: StepResult) => number | null | undefined): number | null {
  return median(a.ok.map(f).filter((x): x is number => typeof x === 'number'));
}

/** "12.3 (11.9–12.8)" with a spread when there are several rounds, or FAILED/skipped markers. */
export function valueCell(a: Agg, f: (r: StepResult) => number | null | undefined, fmt: (x: number) => string, spread: boolean): string {
  const vals = a.ok.map(f).filter((x): x is number => typeof x === 'number');
  const m = median(vals);
  if (m === null) {
    const first = a.failed[0];
    if (first) return shortFailure(first);
    const sk = a.skipped[0];
    return sk ? `skipped (${sk.reason ?? '?'})` : '—';
  }
  let s = fmt(m);
  if (spread && vals.length > 1) s += ` (${fmt(Math.min(...vals))}–${fmt(Math.max(...vals))})`;
  const bad = a.failed.length + a.skipped.length;
  if (bad > 0) s += ` ⚠ ${bad}/${bad + a.ok.length} not ok`;
  return s;
}

export function ratioCell(num: number | null, den: number | null): string {
  if (num === null || den === null || den === 0) return '—';
  return `${(num / den).toFixed(2)}x`;
}

export const wall = (r: StepResult): number | undefined => r.measurement?.wallSec;
export const cpu = (r: StepResult): number | null => {
  const mm = r.measurement;
  return mm && mm.userSec !== null && mm.sysSec !== null ? mm.userSec + mm.sysSec : null;
};
export const rss = (r: StepResult): number | null => (r.measurement?.maxRssKb != null ? r.measurement.maxRssKb * 1024 : null);
const repo = (r: StepResult): number | undefined => r.repo?.apparentBytes;

export function renderMarkdown(res: BenchResults): string {
  const tools = res.options.tools.filter((t) => res.tools[t]);
  const label = (t: ToolName): string => res.tools[t]?.label ?? t;
  const ratioBases = tools.includes('pybackup') ? tools.filter((t) => t !== 'pybackup') : [];
  const spread = res.options.rounds > 1;
  const m = res.machine;
  const c = res.corpus.manifest;
  const out: string[] = [];
  const date = res.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  out.push(`# PyBackup benchmark — ${date}${res.options.quick ? ' (QUICK smoke run: small corpus, not representative)' : ''}`);
  out.push('');
  if (res.problems.length > 0) {
    out.push('> **BENCH FAILURE**');
    for (const p of res.problems) out.push(`> - ${cellEscape(p)}`);
    out.push('');
  }
  const order = tools.map(label).join(' → ');
  out.push(`- **Rounds:** ${res.options.rounds}; tool order rotates each round (round 1: ${order}); fresh repository and caches per tool per round; warm page cache (the corpus is read, untimed, before every backup step); each round restores into a fresh directory (a tmpfs under /dev/shm when it has room, so ext4 inode-allocation slowdowns after mass deletes do not decide restore times; repositories stay on disk).`);
  out.push(
    `- **Machine:** ${m.cpuModel}, nproc ${m.nproc} (${m.logicalCpus} logical CPUs), ${(m.memBytes / 2 ** 30).toFixed(1)} GiB RAM, Linux ${m.kernel}; ` +
      `work dir on ${m.workFs}, corpus on ${m.corpusFs}; load average ${m.loadAvgStart.toFixed(2)} at start` +
      `${m.loadAvgEnd !== null ? `, ${m.loadAvgEnd.toFixed(2)} at end` : ''} (other load on the machine skews timings).`,
  );
  out.push(`- **Versions:** Node ${m.node}; ${tools.map((t) => `${label(t)}: ${res.tools[t]?.version ?? '?'}`).join('; ')}.`);
  for (const t of tools) out.push(`- **${label(t)} settings:** ${res.tools[t]?.notes ?? ''}.`);
  for (const [t, why] of Object.entries(res.unavailable)) out.push(`- **${t}: not run** — ${why}.`);
  const real = c.parts.real;
  out.push(
    `- **Corpus:** ${res.corpus.data} — ${c.total.files} files, ${c.total.dirs} dirs, ${c.total.symlinks} symlinks, ${mb(c.total.bytes)} MB` +
      `${res.corpus.reused ? ' (reused)' : ' (built for this run)'}:`,
  );
  out.push(
    `  - real trees: ${real.files} files, ${mb(real.bytes)} MB from ${real.sources.map((s) => `${s.path}${s.partial ? ' (partial)' : ''}`).join(', ') || 'nothing'}`,
  );
  out.push(`  - incompressible: ${c.parts.random.files} x ${mb(c.spec.randomFileBytes)} MB random files`);
  out.push(`  - small files: ${c.parts.small.files} files of ${c.spec.smallMinBytes} B–${c.spec.smallMaxBytes / 1024} KiB, ${mb(c.parts.small.bytes)} MB, mildly compressible text`);
  out.push(`- **Edit step** (before "backup after edits", reverted after the round): ${res.corpus.edits}.`);
  out.push(`- Times are wall-clock seconds; MB = 10^6 bytes; lower is better; ratio > 1.00x means PyBackup is slower / bigger.`);
  out.push('');

  const timedSteps = TIMED_STEPS;
  const head = ['Step', ...tools.map(label), ...ratioBases.map((b) => `PyBackup/${label(b)}`)];
  out.push(`## Wall time (s, median${spread ? ' (min–max)' : ''} of ${res.options.rounds} round${res.options.rounds > 1 ? 's' : ''})`);
  out.push('');
  out.push(
    table(
      head,
      timedSteps.map((s) => [
        STEP_LABELS[s],
        ...tools.map((t) => valueCell(aggregate(res, t, s), wall, secs, spread)),
        ...ratioBases.map((b) => ratioCell(medianOf(aggregate(res, 'pybackup', s), wall), medianOf(aggregate(res, b, s), wall))),
      ]),
    ),
  );
  const thr = tools
    .map((t) => {
      const tm = medianOf(aggregate(res, t, 'initial'), wall);
      return tm ? `${label(t)} ${(c.total.bytes / 1e6 / tm).toFixed(0)} MB/s` : null;
    })
    .filter((x) => x !== null);
  if (thr.length > 0) out.push('', `Initial backup throughput: ${thr.join(', ')}.`);
  out.push('');

  out.push('## CPU time (user+sys s, median)');
  out.push('');
  out.push(
    table(
      head,
      timedSteps.map((s) => [
        STEP_LABELS[s],
        ...tools.map((t) => valueCell(aggregate(res, t, s), cpu, secs, false)),
        ...ratioBases.map((b) => ratioCell(medianOf(aggregate(res, 'pybackup', s), cpu), medianOf(aggregate(res, b, s), cpu))),
      ]),
    ),
  );
  out.push('');

  out.push('## Peak RSS (MB, median; GNU time %M)');
  out.push('');
  out.push(
    table(
      head,
      timedSteps.map((s) => [
        STEP_LABELS[s],
        ...tools.map((t) => valueCell(aggregate(res, t, s), rss, mb, false)),
        ...ratioBases.map((b) => ratioCell(medianOf(aggregate(res, 'pybackup', s), rss), medianOf(aggregate(res, b, s), rss))),
      ]),
    ),
  );
  out.push('');

  out.push(`## Repository size (MB, median; apparent size of the repository directory; corpus = ${mb(c.total.bytes)} MB)`);
  out.push('');
  const repoLabels: Record<(typeof BACKUP_STEPS)[number], string> = {
    initial: 'after initial backup',
    unchanged: 'after unchanged re-backup',
    edited: 'after all backups (edited)',
  };
  out.push(
    table(
      ['Repository', ...tools.map(label), ...ratioBases.map((b) => `PyBackup/${label(b)}`)],
      BACKUP_STEPS.map((s) => [
        repoLabels[s],
        ...tools.map((t) => {
          const a = aggregate(res, t, s);
          const v = medianOf(a, repo);
          return v === null ? valueCell(a, repo, mb, false) : `${mb(v)} (${((v / c.total.bytes) * 100).toFixed(0)}%)`;
        }),
        ...ratioBases.map((b) => ratioCell(medianOf(aggregate(res, 'pybackup', s), repo), medianOf(aggregate(res, b, s), repo))),
      ]),
    ),
  );
  out.push('');

  out.push('## Restore verification (content of restored tree vs. edited corpus)');
  out.push('');
  const rounds = Array.from({ length: res.options.rounds }, (_, i) => i + 1).filter((r) => res.steps.some((x) => x.round === r));
  out.push(
    table(
      ['Round', ...tools.map(label)],
      rounds.map((rd) => [
        String(rd),
        ...tools.map((t) => {
          const r = res.steps.find((x) => x.round === rd && x.tool === t && x.step === 'restore');
          if (!r) return '—';
          if (r.status === 'skipped') return 'skipped';
          if (r.status === 'failed' && !r.verify) return 'restore failed';
          if (!r.verify) return '—';
          return r.verify.ok ? `OK${r.verify.layout !== '<target>/<corpus abs path>' ? ` (${r.verify.layout})` : ''}` : `**MISMATCH**: ${r.verify.details.slice(0, 3).join('; ')}`;
        }),
      ]),
      99,
    ),
  );
  out.push('');

  const bad = res.steps.filter((r) => r.status !== 'ok');
  if (bad.length > 0) {
    out.push('## Failures');
    out.push('');
    out.push(
      table(
        ['Round', 'Tool', 'Step', 'Result'],
        bad.map((r) => [String(r.round), label(r.tool), STEP_LABELS[r.step], r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : failureText(r)]),
        4,
      ),
    );
    out.push('');
    out.push(`Full command output: ${res.options.logDir}/r<round>-<tool>-<step>.{out,err,time}`);
    out.push('');
  }

  out.push('## All runs');
  out.push('');
  out.push(
    table(
      ['Round', '#', 'Tool', 'Step', 'Wall s', 'CPU s', 'Peak RSS MB', 'Repo MB', 'Status'],
      res.steps.map((r) => {
        const mm = r.measurement;
        const c2 = cpu(r);
        return [
          String(r.round),
          String(r.position),
          label(r.tool),
          STEP_LABELS[r.step],
          mm ? secs(mm.wallSec) : '',
          c2 !== null ? secs(c2) : '',
          mm?.maxRssKb != null ? mb(mm.maxRssKb * 1024) : '',
          r.repo ? mb(r.repo.apparentBytes) : '',
          r.status === 'ok' ? (r.verify ? (r.verify.ok ? 'ok, verified' : 'MISMATCH') : 'ok') : r.status === 'skipped' ? 'skipped' : shortFailure(r),
        ];
      }),
      4,
    ),
  );
  out.push('');
  return out.join('\n');
}
