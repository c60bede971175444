import type { ServerResponse } from 'node:http';
import { showPath } from '../../browse/path.ts';
import { csrfOk } from './auth.ts';
import { errorBox, esc, formatBytes, formatTime, page, qs } from './html.ts';
import { HttpError, type Req, param, readForm, redirect, sendHtml, sendJson } from './http.ts';
import type { JobStatus } from './restore-jobs.ts';
import type { UiState } from './state.ts';

/** POST /restore (form: csrf, snap, p, target, overwrite) — starts a restore job and redirects to its page. */
export async function restoreStart(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const form = await readForm(req.raw);
  if (!csrfOk(req.raw, param(form, 'csrf'), st.token)) throw new HttpError(403, 'this form did not come from this PyBackup page (missing or wrong form token, or a foreign Origin)');
  const s = await st.snapshot(param(form, 'snap') ?? null);
  const r = await st.resolve(s, param(form, 'p') ?? '/');
  const path = showPath(r.parts);
  const target = (param(form, 'target') ?? '').trim();
  const root = r.treeId !== undefined ? { treeId: r.treeId, snapshotPath: path } : { node: r.node!, snapshotPath: path };
  const job = st.jobs.start({ root, what: `${path || '/'} from snapshot ${s.id.slice(0, 8)} (${formatTime(s.time)})`, target, overwrite: param(form, 'overwrite') ?? 'if-changed' });
  redirect(res, `/restore/job${qs({ id: job.id })}`);
}

function jobOf(st: UiState, req: Req): JobStatus {
  const job = st.jobs.get(param(req.url, 'id') ?? '');
  if (!job) throw new HttpError(404, 'no such restore job (jobs are forgotten when the server stops)');
  return job;
}

/** The JSON the progress script polls. */
export function jobJson(j: JobStatus): Record<string, unknown> {
  return {
    id: j.id,
    state: j.state,
    what: j.what,
    target: j.target,
    files_done: j.filesDone,
    files_total: j.filesTotal,
    bytes_done: j.bytesDone,
    bytes_total: j.bytesTotal,
    warnings: j.warnings,
    warning_count: j.warningCount,
    ...(j.summary ? { summary: { files_restored: j.summary.filesRestored, files_skipped: j.summary.filesSkipped, dirs: j.summary.dirs, bytes_written: j.summary.bytesWritten, bytes_total: j.summary.bytesTotal, errors: j.summary.errors, seconds: j.summary.elapsedMs / 1000 } } : {}),
    ...(j.error !== undefined ? { error: j.error } : {}),
  };
}

/** GET /api/restore?id=JOB — the job's status as JSON. */
export async function jobStatusRoute(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  sendJson(res, 200, jobJson(jobOf(st, req)));
}

function statusText(j: JobStatus): string {
  if (j.state === 'running') return `Restoring… ${j.filesDone} / ${j.filesTotal} files, ${formatBytes(j.bytesDone)} / ${formatBytes(j.bytesTotal)}`;
  const s = j.summary;
  const done = s ? `Restored ${s.filesRestored} files (${formatBytes(s.bytesTotal)}) and ${s.dirs} directories in ${(s.elapsedMs / 1000).toFixed(1)} s${s.filesSkipped ? `, skipped ${s.filesSkipped} existing files` : ''}.` : '';
  return j.state === 'done' ? done : `Restore failed: ${j.error ?? 'unknown error'}. ${done}`;
}

const SCRIPT = `
(function(){var el=document.getElementById('status'),bar=document.getElementById('bar');
var id=document.body.getAttribute('data-job');
function fmt(n){var u=['B','KiB','MiB','GiB','TiB'],i=0;while(n>=1024&&i<u.length-1){n/=1024;i++}return i?n.toFixed(1)+' '+u[i]:n+' B'}
function tick(){fetch('/api/restore?id='+encodeURIComponent(id),{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(j){
bar.max=j.bytes_total||1;bar.value=j.state==='running'?j.bytes_done:(j.bytes_total||1);
if(j.state==='running'){el.textContent='Restoring… '+j.files_done+' / '+j.files_total+' files, '+fmt(j.bytes_done)+' / '+fmt(j.bytes_total);setTimeout(tick,500);return}
location.reload();}).catch(function(){setTimeout(tick,2000)})}
setTimeout(tick,300);})();`;

/** GET /restore/job?id=JOB — progress (polled by a small script; a meta refresh without JavaScript) and the result. */
export async function jobPage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const j = jobOf(st, req);
  const running = j.state === 'running';
  const cls = j.state === 'done' ? 'ok' : j.state === 'failed' ? 'err' : 'card';
  const warn = j.warningCount ? `<h2>Problems (${j.warningCount})</h2><ul id="warnings">${j.warnings.map((w) => `<li><code>${esc(w.path)}</code>: ${esc(w.message)}</li>`).join('')}</ul>` : '';
  const body = `<h1>Restore</h1><div class="card"><dl class="kv"><dt>What</dt><dd>${esc(j.what)}</dd><dt>Target</dt><dd><code>${esc(j.target)}</code></dd><dt>Started</dt><dd>${esc(formatTime(j.started))}</dd></dl></div>
<progress id="bar" max="${Math.max(1, j.bytesTotal)}" value="${running ? j.bytesDone : Math.max(1, j.bytesTotal)}"></progress>
<div id="status" class="${cls}" data-state="${esc(j.state)}">${esc(statusText(j))}</div>${j.state === 'failed' && !j.summary ? errorBox(j.error ?? '') : ''}${warn}
${running ? `<script>${SCRIPT}</script>` : ''}`;
  const head = running ? '<noscript><meta http-equiv="refresh" content="2"></noscript>' : '';
  sendHtml(res, 200, page({ title: 'Restore', head }, body).replace('<body>', `<body data-job="${esc(j.id)}">`));
}
