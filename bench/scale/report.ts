/** Markdown reports of the scale scenarios (helpers shared with bench/report.ts). */
import type { MachineInfo } from '../machine.ts';
import type { Measurement } from '../measure.ts';
import { type StepName, STEP_LABELS, aggregate, cellEscape, cpu, failureText, median, medianOf, mb, ratioCell, rss, secs, shortFailure, table, valueCell, wall } from '../report.ts';
import type { ToolName } from '../tools.ts';
import { fmtCount } from './common.ts';
import type { FilesResults } from './files.ts';
import type { MemoryResults, MemoryRow } from './memory.ts';

/** The issue's targets: PyBackup/restic wall-time ratios, and memory ceilings. */
export const FILES_TARGETS: { step: StepName; maxRatio: number }[] = [
  { step: 'initial', maxRatio: 0.7 },
  { step: 'unchanged', maxRatio: 0.5 },
  { step: 'restore', maxRatio: 0.7 },
];
export const FILES_FULL = 500_000;
export const MILLION = 1_000_000;
export const RSS_TARGET_BYTES = 400e6;
export const CURVE_FROM = 10_000;
export const CURVE_TO = 10_000_000;
export const CURVE_MAX_GROWTH_BYTES = 50e6;

const TIMED = ['initial', 'unchanged', 'restore'] as const satisfies readonly StepName[];

function machineLine(m: MachineInfo): string {
  return (
    `- **Machine:** ${m.cpuModel}, nproc ${m.nproc}, ${(m.memBytes / 2 ** 30).toFixed(1)} GiB RAM, Linux ${m.kernel}, Node ${m.node}; ` +
    `work dir on ${m.workFs}; load average ${m.loadAvgStart.toFixed(2)} at start${m.loadAvgEnd !== null ? `, ${m.loadAvgEnd.toFixed(2)} at end` : ''}.`
  );
}

const verdict = (ok: boolean | null): string => (ok === null ? '—' : ok ? 'yes' : '**NO**');

export function renderFilesMarkdown(res: FilesResults): string {
  const tools = res.options.tools.filter((t) => res.tools[t]);
  const label = (t: ToolName): string => res.tools[t]?.label ?? t;
  const bases = tools.includes('pybackup') ? tools.filter((t) => t !== 'pybackup') : [];
  const spread = res.options.rounds > 1;
  const tm = res.tree.manifest;
  const n = res.options.files;
  const out: string[] = [];
  const reduced = n < FILES_FULL ? ` — REDUCED SIZE (targets are stated for ${fmtCount(FILES_FULL)} files)` : '';
  out.push(`# PyBackup scale benchmark: ${fmtCount(n)} small files — ${res.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}${reduced}`, '');
  if (res.problems.length > 0) out.push('> **BENCH FAILURE**', ...res.problems.map((p) => `> - ${cellEscape(p)}`), '');
  out.push(`- **Rounds:** ${res.options.rounds}; tool order rotates per round; fresh repository and cache per tool per round; the tree is read (untimed) before every backup; restores go to ${res.options.restoreRoot} and are verified against the tree's digest.`);
  out.push(machineLine(res.machine));
  out.push(`- **Versions:** ${tools.map((t) => `${label(t)}: ${res.tools[t]?.version ?? '?'}`).join('; ')}.`);
  for (const [t, why] of Object.entries(res.unavailable)) out.push(`- **${t}: not run** — ${why}.`);
  out.push(
    `- **Tree:** ${res.tree.data}: ${tm.stats.files} files of ${tm.spec.minBytes} B–${tm.spec.maxBytes / 1024} KiB (${mb(tm.stats.bytes)} MB), ` +
      `${tm.stats.dirs} dirs (${tm.spec.dirMin}–${tm.spec.dirMax} files per leaf dir), seeded text${res.tree.reused ? ' (reused)' : ` (built in ${tm.buildSec.toFixed(0)} s)`}.`,
  );
  out.push('- Times are wall-clock seconds; MB = 10^6 bytes; ratio > 1.00x means PyBackup is slower / bigger.', '');

  out.push('## Targets', '');
  const rows: string[][] = [];
  const py = (s: StepName): number | null => medianOf(aggregate(res, 'pybackup', s), wall);
  const restic = (s: StepName): number | null => medianOf(aggregate(res, 'restic', s), wall);
  for (const t of FILES_TARGETS) {
    const a = py(t.step);
    const b = restic(t.step);
    const ok = a !== null && b !== null && b > 0 ? a / b <= t.maxRatio : null;
    rows.push([`${STEP_LABELS[t.step]}: PyBackup/restic wall time`, a !== null ? secs(a) : '—', b !== null ? secs(b) : '—', ratioCell(a, b), `≤ ${t.maxRatio.toFixed(2)}x`, verdict(ok)]);
  }
  const pyRss = TIMED.map((s) => medianOf(aggregate(res, 'pybackup', s), rss)).filter((x) => x !== null);
  const peak = pyRss.length > 0 ? Math.max(...pyRss) : null;
  const rssOk = peak === null ? null : n >= MILLION ? peak <= RSS_TARGET_BYTES : null;
  rows.push([
    `PyBackup peak RSS, worst step (${fmtCount(MILLION)}-file target)`,
    peak !== null ? `${mb(peak)} MB` : '—',
    '',
    '',
    `≤ ${mb(RSS_TARGET_BYTES)} MB at ${fmtCount(MILLION)} files`,
    n >= MILLION ? verdict(rssOk) : `n/a (${fmtCount(n)} files)`,
  ]);
  out.push(table(['Target', 'PyBackup', 'restic', 'Ratio', 'Target', 'Met'], rows, 1), '');

  const head = ['Step', ...tools.map(label), ...bases.map((b) => `PyBackup/${label(b)}`)];
  const metric = (title: string, f: (r: Parameters<typeof wall>[0]) => number | null | undefined, fmt: (x: number) => string, sp: boolean): void => {
    out.push(`## ${title}`, '');
    out.push(
      table(
        head,
        TIMED.map((s) => [
          STEP_LABELS[s],
          ...tools.map((t) => valueCell(aggregate(res, t, s), f, fmt, sp)),
          ...bases.map((b) => ratioCell(medianOf(aggregate(res, 'pybackup', s), f), medianOf(aggregate(res, b, s), f))),
        ]),
      ),
      '',
    );
  };
  metric(`Wall time (s, median${spread ? ' (min–max)' : ''} of ${res.options.rounds})`, wall, secs, spread);
  metric('CPU time (user+sys s, median)', cpu, secs, false);
  metric('Peak RSS (MB, median; GNU time %M)', rss, mb, false);
  const repo = (s: StepName, t: ToolName): number | null => median(aggregate(res, t, s).ok.map((r) => r.repo?.apparentBytes).filter((x) => x !== undefined));
  out.push('## Repository size after the initial backup (MB, median)', '');
  out.push(table(['', ...tools.map(label)], [['repository', ...tools.map((t) => { const v = repo('initial', t); return v !== null ? mb(v) : '—'; })]]), '');

  const bad = res.steps.filter((r) => r.status !== 'ok');
  if (bad.length > 0) {
    out.push('## Failures', '');
    out.push(table(['Round', 'Tool', 'Step', 'Result'], bad.map((r) => [String(r.round), label(r.tool), STEP_LABELS[r.step], r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : failureText(r)]), 4), '');
    out.push(`Full command output: ${res.options.logDir}/r<round>-<tool>-<step>.{out,err,time}`, '');
  }
  out.push('## All runs', '');
  out.push(
    table(
      ['Round', '#', 'Tool', 'Step', 'Wall s', 'CPU s', 'Peak RSS MB', 'Status'],
      res.steps.map((r) => {
        const m = r.measurement;
        const c = cpu(r);
        const st = r.status === 'ok' ? (r.verify ? 'ok, verified' : 'ok') : r.status === 'skipped' ? 'skipped' : shortFailure(r);
        return [String(r.round), String(r.position), label(r.tool), STEP_LABELS[r.step], m ? secs(m.wallSec) : '', c !== null ? secs(c) : '', m?.maxRssKb != null ? mb(m.maxRssKb * 1024) : '', st];
      }),
      4,
    ),
    '',
  );
  return out.join('\n');
}

const mRss = (m: Measurement): number | null => (m.ok && m.maxRssKb !== null ? m.maxRssKb * 1024 : null);
const mWall = (m: Measurement): number | null => (m.ok ? m.wallSec : null);
function med(ms: readonly Measurement[], f: (m: Measurement) => number | null): number | null {
  return median(ms.map(f).filter((x) => x !== null));
}
const cell = (v: number | null, fmt: (x: number) => string): string => (v === null ? '—' : fmt(v));

function growthLine(what: string, rows: readonly MemoryRow[], pick: (r: MemoryRow) => number | null): string {
  const pts = rows.map((r) => ({ k: r.chunks, v: pick(r) })).filter((p): p is { k: number; v: number } => p.v !== null);
  const lo = pts.find((p) => p.k === CURVE_FROM) ?? pts[0];
  const hi = pts.find((p) => p.k === CURVE_TO) ?? pts.at(-1);
  if (!lo || !hi || lo === hi) return `- ${what}: not enough points.`;
  const g = hi.v - lo.v;
  const full = lo.k === CURVE_FROM && hi.k === CURVE_TO;
  const judged = full ? (g < CURVE_MAX_GROWTH_BYTES ? 'met' : '**NOT met**') : `not judged (the target spans ${fmtCount(CURVE_FROM)}–${fmtCount(CURVE_TO)})`;
  return `- ${what}: ${mb(lo.v)} MB at ${fmtCount(lo.k)} → ${mb(hi.v)} MB at ${fmtCount(hi.k)} chunks (${g >= 0 ? '+' : ''}${mb(g)} MB): ${judged}.`;
}

export function renderMemoryMarkdown(res: MemoryResults): string {
  const out: string[] = [];
  const s = res.rows[0]?.synth.spec;
  const src = res.source.manifest;
  const ks = res.options.chunks;
  const reduced = ks.includes(CURVE_FROM) && ks.includes(CURVE_TO) ? '' : ` — REDUCED RANGE (the target spans ${fmtCount(CURVE_FROM)}–${fmtCount(CURVE_TO)} chunks)`;
  out.push(`# PyBackup scale benchmark: memory against repository size — ${res.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}${reduced}`, '');
  if (res.problems.length > 0) out.push('> **BENCH FAILURE**', ...res.problems.map((p) => `> - ${cellEscape(p)}`), '');
  out.push(machineLine(res.machine));
  out.push(`- **PyBackup:** ${res.pybackup}; ${res.options.rounds} round(s) per size; medians shown.`);
  if (s) {
    out.push(
      `- **Synthetic repositories:** K data blobs of ${s.minBlob}–${s.maxBlob} random bytes, ${s.blobsPerPack} per pack, ${s.packsPerIndex} packs per index file ` +
        `(${s.blobsPerPack * s.packsPerIndex} blobs per index file), no snapshot referencing them; built with the project's repository code.`,
    );
  }
  out.push(`- **Backed-up source:** ${res.source.data}: ${src.stats.files} files of ${src.spec.minBytes / 1024}–${src.spec.maxBytes / 1024} KiB, ${mb(src.stats.bytes)} MB (all new to the repository in every run: the repository is reset after each backup).`);
  out.push(
    '- **Columns:** *rebuild* = `pybackup snapshots` with no local catalog (imports every index file); *synced* = backup with the catalog copied from the synced state; ' +
      '*cold* = backup with the catalog deleted first (the backup rebuilds it); *lookup* = µs per `Catalog.hasBlob` (present / absent id) and per `Catalog.blob` (present), random ids, one process; ' +
      '*ls / find* = `ls -l -R latest` and `find \'f-*7.txt\'` (twice: the first fills the tree catalog) on the snapshot of the first synced backup, in the K-chunk repository.',
    '',
  );
  out.push(`## Target: backup peak RSS grows < ${mb(CURVE_MAX_GROWTH_BYTES)} MB from ${fmtCount(CURVE_FROM)} to ${fmtCount(CURVE_TO)} chunks`, '');
  out.push(growthLine('synced catalog', res.rows, (r) => med(r.warm, mRss)));
  out.push(growthLine('cold catalog', res.rows, (r) => med(r.cold, mRss)));
  out.push(growthLine('catalog rebuild (`snapshots`)', res.rows, (r) => (r.rebuild ? mRss(r.rebuild) : null)), '');

  out.push('## Curve', '');
  out.push(
    table(
      ['Chunks', 'Packs / index files', 'Repo MB', 'catalog.db MB', 'Rebuild s', 'Rebuild RSS MB', 'Synced: RSS MB', 'Synced: wall s', 'Cold: RSS MB', 'Cold: wall s', 'Lookup µs present / absent / blob()', 'ls -l -R / find / find again: wall s'],
      res.rows.map((r) => [
        fmtCount(r.chunks),
        `${r.synth.packs} / ${r.synth.indexFiles}`,
        mb(r.repoBytes),
        cell(r.catalogBytes, mb),
        cell(r.rebuild ? mWall(r.rebuild) : null, secs),
        cell(r.rebuild ? mRss(r.rebuild) : null, mb),
        cell(med(r.warm, mRss), mb),
        cell(med(r.warm, mWall), secs),
        cell(med(r.cold, mRss), mb),
        cell(med(r.cold, mWall), secs),
        r.lookup ? `${r.lookup.presentHasUs.toFixed(1)} / ${r.lookup.absentHasUs.toFixed(1)} / ${r.lookup.presentBlobUs.toFixed(1)}` : '—',
        r.browse ? [r.browse.ls, r.browse.findFirst, r.browse.findAgain].map((m) => (m.ok ? secs(m.wallSec) : 'failed')).join(' / ') : '—',
      ]),
    ),
    '',
  );
  out.push('Synthetic repository build time (cached between runs): ' + res.rows.map((r) => `${fmtCount(r.chunks)} ${r.synth.buildSec.toFixed(0)} s${r.synthReused ? ' (reused)' : ''}`).join(', ') + '.', '');
  out.push('## All runs', '');
  const all: string[][] = [];
  for (const r of res.rows) {
    const add = (what: string, m: Measurement | null | undefined): void => {
      if (!m) return;
      const c = m.userSec !== null && m.sysSec !== null ? secs(m.userSec + m.sysSec) : '';
      all.push([fmtCount(r.chunks), what, m.ok ? secs(m.wallSec) : '', c, m.maxRssKb !== null ? mb(m.maxRssKb * 1024) : '', m.ok ? 'ok' : m.timedOut ? 'TIMED OUT' : `FAILED (exit ${m.exitCode ?? '?'})`]);
    };
    add('catalog rebuild (snapshots)', r.rebuild);
    add('lookup probe', r.lookup?.measurement);
    r.warm.forEach((m, i) => add(`backup, synced catalog, round ${i + 1}`, m));
    r.cold.forEach((m, i) => add(`backup, cold catalog, round ${i + 1}`, m));
    add('ls -l -R latest (synced catalog)', r.browse?.ls);
    add("find 'f-*7.txt', first run", r.browse?.findFirst);
    add("find 'f-*7.txt', again", r.browse?.findAgain);
  }
  out.push(table(['Chunks', 'Command', 'Wall s', 'CPU s', 'Peak RSS MB', 'Status'], all, 2), '');
  out.push(`Command logs: ${res.options.logDir}`, '');
  return out.join('\n');
}
