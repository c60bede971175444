import type { ServerResponse } from 'node:http';
import { diffFiles, type FileDiff } from '../../browse/file-diff.ts';
import { showPath } from '../../browse/path.ts';
import type { Hunk } from '../../browse/text-diff.ts';
import { esc, formatBytes, formatTime, link, page, qs } from './html.ts';
import { HttpError, type Req, param, sendHtml } from './http.ts';
import type { UiState } from './state.ts';

/** Unified diff hunks as HTML: every line escaped, added/removed/hunk-header lines colored by class. */
export function renderHunks(hunks: readonly Hunk[]): string {
  const out: string[] = [];
  for (const h of hunks) {
    out.push(`<span class="hunk">@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@</span>`);
    for (const l of h.lines) {
      const text = l.endsWith('\n') ? l.slice(0, -1) : l;
      const cls = l.startsWith('+') ? ' class="add"' : l.startsWith('-') ? ' class="del"' : '';
      out.push(`<span${cls}>${esc(text)}</span>`);
      if (!l.endsWith('\n')) out.push('<span class="muted">\\ No newline at end of file</span>');
    }
  }
  return `<pre class="diff">${out.join('')}</pre>`;
}

function describe(d: FileDiff): string {
  const sizes = `${formatBytes(d.oldSize)} → ${formatBytes(d.newSize)}`;
  if (d.kind === 'identical') return `<div class="ok">The two versions are identical (${esc(sizes)}).</div>`;
  if (d.kind === 'binary') return `<div class="card">Binary files differ (${esc(sizes)}); no text diff is shown.</div>`;
  if (d.kind === 'too_large') return `<div class="card">Too large for a text diff (limit ${esc(formatBytes(d.limit))}; ${esc(sizes)}).</div>`;
  if (d.hunks.length === 0) return `<div class="ok">No differences in the text (${esc(sizes)}).</div>`;
  return renderHunks(d.hunks);
}

/** GET /diff?p=PATH&a=OLD&b=NEW — the unified text diff of one file between two snapshots. */
export async function diffPage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const path = param(req.url, 'p') ?? '';
  const sa = await st.snapshot(param(req.url, 'a') ?? null);
  const sb = await st.snapshot(param(req.url, 'b') ?? null);
  const ra = await st.resolve(sa, path);
  const rb = await st.resolve(sb, path);
  if (ra.node?.type !== 'file' || rb.node?.type !== 'file') throw new HttpError(400, `${path} is not a regular file in both snapshots`);
  const d = await diffFiles(st.deps.reader, ra.node, rb.node, { signal: req.signal });
  const shown = showPath(rb.parts);
  const side = (label: string, id: string, time: string): string => `${esc(label)} ${link(`/file${qs({ snap: id, p: shown })}`, `${id.slice(0, 8)} (${formatTime(time)})`)}`;
  const body = `<h1>Changes in ${esc(shown)}</h1>
<p>${side('from', sa.id, sa.time)} ${side('to', sb.id, sb.time)}</p>${describe(d)}`;
  sendHtml(res, 200, page({ title: `diff ${shown}` }, body));
}
