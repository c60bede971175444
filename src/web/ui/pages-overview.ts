import type { ServerResponse } from 'node:http';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { matchesFilter } from '../../repository/snapshots.ts';
import { esc, formatBytes, formatTime, link, page, qs, table } from './html.ts';
import { type Req, param, sendHtml } from './http.ts';
import type { UiState } from './state.ts';

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}

/** GET / — the repository at a glance. */
export async function overviewPage(st: UiState, _req: Req, res: ServerResponse): Promise<void> {
  const snaps = await st.snapshots();
  const t = st.totals();
  const logical = snaps.reduce((n, s) => n + (s.summary?.totalBytesProcessed ?? 0), 0);
  const hosts = [...new Set(snaps.map((s) => s.hostname))].sort();
  const last = snaps[snaps.length - 1];
  const check = st.deps.lastCheck();
  const kv: [string, string][] = [
    ['Repository ID', `<code>${esc(st.deps.repo.config.id)}</code>`],
    ['Location', `<code>${esc(st.deps.location)}</code>`],
    ['Snapshots', `${snaps.length}${hosts.length ? ` from ${hosts.length} host${hosts.length > 1 ? 's' : ''} (${esc(hosts.join(', '))})` : ''}`],
    ['Latest snapshot', last ? `${link(`/browse${qs({ snap: last.id })}`, formatTime(last.time))} <span class="muted">${esc(last.hostname)}</span>` : 'none yet'],
    ['Data backed up (sum over snapshots)', esc(formatBytes(logical))],
    ['Raw size (unique data, uncompressed)', esc(formatBytes(t.rawSize))],
    ['Stored size (compressed, encrypted)', esc(formatBytes(t.storedSize))],
    ['Deduplication ratio', esc(ratio(logical, t.rawDataSize))],
    ['Compression ratio', esc(ratio(t.rawSize, t.storedSize))],
    ['Blobs in the index', esc(t.blobs)],
    // an ISO time (a profile's last check) is formatted; a described outcome ("… UTC (no errors)") is shown as is
    ['Last check', check ? esc(/^\d{4}-\d\d-\d\dT/.test(check) ? formatTime(check) : check) : '<span class="muted">unknown</span>'],
  ];
  const body = `<h1>Repository overview</h1>
<div class="card"><dl class="kv">${kv.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl></div>
<h2>Recent snapshots</h2>${snapshotTable(snaps.slice(-10).reverse())}
<p>${link('/snapshots', 'All snapshots')}</p>`;
  sendHtml(res, 200, page({ title: 'Overview' }, body));
}

/** The snapshot table, newest first as given. */
export function snapshotTable(snaps: readonly SnapshotWithId[]): string {
  if (snaps.length === 0) return '<p class="muted">No snapshots.</p>';
  const rows = snaps.map((s) => [
    `<a class="mono" href="${esc(`/browse${qs({ snap: s.id })}`)}">${esc(s.id.slice(0, 8))}</a>`,
    esc(formatTime(s.time)),
    esc(s.hostname),
    esc((s.tags ?? []).join(', ')),
    s.paths.map((p) => `<code>${esc(p)}</code>`).join('<br>'),
    s.summary ? esc(s.summary.totalFilesProcessed) : '',
    s.summary ? esc(formatBytes(s.summary.totalBytesProcessed)) : '',
    s.summary ? esc(formatBytes(s.summary.dataAddedPacked)) : '',
  ]);
  return table(['ID', 'Time (UTC)', 'Host', 'Tags', 'Paths', 'Files', 'Size', 'Added (stored)'], rows, new Set([5, 6, 7]));
}

/** GET /snapshots?host=&tag=&path= — every snapshot, newest first, filtered as `pybackup snapshots` filters. */
export async function snapshotsPage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const all = await st.snapshots();
  const host = param(req.url, 'host') ?? '';
  const tag = param(req.url, 'tag') ?? '';
  const path = param(req.url, 'path') ?? '';
  const filter = { hosts: host ? [host] : [], tags: tag ? [tag] : [], paths: path ? [path] : [] };
  const shown = all.filter((s) => matchesFilter(s, filter)).reverse();
  const hosts = [...new Set(all.map((s) => s.hostname))].sort();
  const opts = ['', ...hosts].map((h) => `<option value="${esc(h)}"${h === host ? ' selected' : ''}>${esc(h || 'any host')}</option>`).join('');
  const body = `<h1>Snapshots</h1>
<form class="inline" method="get" action="/snapshots">
<label>Host<select name="host">${opts}</select></label>
<label>Tags (a,b = both)<input name="tag" value="${esc(tag)}"></label>
<label>Path<input name="path" value="${esc(path)}" placeholder="/home/ann"></label>
<button type="submit">Filter</button></form>
<p class="muted">${shown.length} of ${all.length} snapshots</p>${snapshotTable(shown)}`;
  sendHtml(res, 200, page({ title: 'Snapshots' }, body));
}
