import type { ServerResponse } from 'node:http';
import { history } from '../../browse/history.ts';
import { displayName, nodeDisplayName, showPath, splitPath } from '../../browse/path.ts';
import { type Node, linkTargetBytes, nodeNameBytes } from '../../model/node.ts';
import type { SnapshotWithId } from '../../model/snapshot.ts';
import { esc, formatBytes, formatMode, formatNs, formatTime, link, page, qs, table } from './html.ts';
import { type Req, param, redirect, sendHtml } from './http.ts';
import { OVERWRITE_MODES } from './restore-jobs.ts';
import type { UiState } from './state.ts';

const MAX_LISTED = 5000;

/** Breadcrumbs: the snapshot, then each directory of `parts`, each a link to browse it. */
function crumbs(s: SnapshotWithId, parts: readonly Buffer[]): string {
  const items = [link(`/browse${qs({ snap: s.id })}`, `snapshot ${s.id.slice(0, 8)}`)];
  for (let i = 0; i < parts.length; i++) items.push(link(`/browse${qs({ snap: s.id, p: showPath(parts.slice(0, i + 1)) })}`, displayName(parts[i] as Buffer)));
  return `<nav class="crumbs">${items.join('<span class="muted">/</span>')}</nav>`;
}

function nodeSize(st: UiState, n: Node): number | undefined {
  if (n.type !== 'file') return undefined;
  try {
    return st.deps.reader.layout(n.content ?? []).size;
  } catch {
    return n.size;
  }
}

/** The restore form for a path (POST /restore with the token as the CSRF field). */
export function restoreForm(st: UiState, s: SnapshotWithId, path: string): string {
  const modes = OVERWRITE_MODES.map((m) => `<option value="${esc(m)}">${esc(m)}</option>`).join('');
  return `<h2>Restore</h2><form class="inline" method="post" action="/restore">
<input type="hidden" name="csrf" value="${esc(st.token)}"><input type="hidden" name="snap" value="${esc(s.id)}"><input type="hidden" name="p" value="${esc(path)}">
<label>Target directory (absolute)<input name="target" size="40" required placeholder="/tmp/restored"></label>
<label>Existing files<select name="overwrite">${modes}</select></label>
<button type="submit">Restore ${esc(path || 'the whole snapshot')}</button></form>`;
}

/** GET /browse?snap=ID&p=PATH — a directory's entries (a file's path redirects to its details). */
export async function browsePage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const s = await st.snapshot(param(req.url, 'snap') ?? null);
  const r = await st.resolve(s, param(req.url, 'p') ?? '/');
  const path = showPath(r.parts);
  if (r.treeId === undefined) {
    redirect(res, `/file${qs({ snap: s.id, p: path })}`);
    return;
  }
  const nodes = (await st.deps.store.tree(r.treeId, st.deps.signal)).nodes;
  const rows = nodes.slice(0, MAX_LISTED).map((n) => {
    const childPath = showPath([...r.parts, nodeNameBytes(n)]);
    const name = nodeDisplayName(n) + (n.type === 'dir' ? '/' : '');
    const href = n.type === 'dir' ? `/browse${qs({ snap: s.id, p: childPath })}` : `/file${qs({ snap: s.id, p: childPath })}`;
    const size = nodeSize(st, n);
    const target = n.type === 'symlink' ? ` <span class="muted">→ ${esc(displayName(linkTargetBytes(n)))}</span>` : '';
    return [`${link(href, name)}${target}`, size === undefined ? '' : esc(formatBytes(size)), esc(formatNs(n.mtime)), `<span class="mono">${esc(formatMode(n.type, n.mode))}</span>`];
  });
  const more = nodes.length > MAX_LISTED ? `<p class="muted">Showing the first ${MAX_LISTED} of ${nodes.length} entries.</p>` : '';
  const title = path || '/';
  const zip = `/download${qs({ snap: s.id, p: path || '/' })}`;
  const body = `<h1>${esc(title)}</h1>${crumbs(s, r.parts)}
<p class="muted">Snapshot of ${esc(s.hostname)} at ${esc(formatTime(s.time))} · ${nodes.length} entries · <a class="button" href="${esc(zip)}">Download as zip</a></p>
${table(['Name', 'Size', 'Modified (UTC)', 'Mode'], rows, new Set([1]))}${more}${restoreForm(st, s, path)}`;
  sendHtml(res, 200, page({ title }, body));
}

/** GET /file?snap=ID&p=PATH — one node's metadata, download, and every version across snapshots. */
export async function filePage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const s = await st.snapshot(param(req.url, 'snap') ?? null);
  const r = await st.resolve(s, param(req.url, 'p') ?? '/');
  const n = r.node;
  const path = showPath(r.parts);
  if (!n || r.treeId !== undefined) {
    redirect(res, `/browse${qs({ snap: s.id, p: path || '/' })}`);
    return;
  }
  const size = nodeSize(st, n);
  const kv: [string, string][] = [
    ['Type', esc(n.type)],
    ['Size', size === undefined ? '–' : `${esc(formatBytes(size))} (${esc(size)} bytes)`],
    ['Modified', esc(formatNs(n.mtime))],
    ['Changed (ctime)', esc(formatNs(n.ctime))],
    ['Mode', `<span class="mono">${esc(formatMode(n.type, n.mode))}</span> (${esc((n.mode & 0o7777).toString(8).padStart(4, '0'))})`],
    ['Owner', `${esc(n.user ?? n.uid)} (${esc(n.uid)}) / ${esc(n.group ?? n.gid)} (${esc(n.gid)})`],
    ['Content blobs', esc((n.content ?? []).length)],
  ];
  if (n.type === 'symlink') kv.push(['Link target', `<code>${esc(displayName(linkTargetBytes(n)))}</code>`]);
  if (n.links !== undefined && n.links > 1) kv.push(['Hard links', esc(n.links)]);
  for (const x of n.xattrs ?? []) kv.push([`xattr ${x.name}`, `<code>${esc(x.value)}</code>`]);
  const dl = n.type === 'file' ? `<p><a class="button" href="${esc(`/download${qs({ snap: s.id, p: path })}`)}">Download</a></p>` : '';
  const body = `<h1>${esc(displayName(r.parts[r.parts.length - 1] ?? Buffer.alloc(0)))}</h1>${crumbs(s, r.parts)}
<div class="card"><dl class="kv">${kv.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl></div>${dl}
<h2>History</h2>${await historyTable(st, path, req.signal)}${restoreForm(st, s, path)}`;
  sendHtml(res, 200, page({ title: path }, body));
}

/** Every version of `path` across all snapshots, per host/paths group, with a diff link to the version before. */
async function historyTable(st: UiState, path: string, signal: AbortSignal): Promise<string> {
  const groups = await history(st.deps.store, await st.snapshots(), splitPath(path), { all: true, signal });
  const out: string[] = [];
  for (const g of groups) {
    if (g.present === 0) continue;
    let prev: string | undefined;
    const rows: string[][] = [];
    for (const ev of g.events) {
      const e = ev.entry;
      const here = e ? `/file${qs({ snap: ev.snapshot.id, p: path })}` : undefined;
      const diff = e && prev && e.type === 'file' && ev.kind !== 'unchanged' && ev.kind !== 'metadata' ? link(`/diff${qs({ p: path, a: prev, b: ev.snapshot.id })}`, 'diff') : '';
      rows.push([
        here ? link(here, formatTime(ev.snapshot.time)) : esc(formatTime(ev.snapshot.time)),
        `<span class="mono">${esc(ev.snapshot.id.slice(0, 8))}</span>`,
        esc(ev.kind),
        e ? esc(e.type === 'file' ? formatBytes(e.size) : e.type) : '',
        e ? esc(formatNs(e.mtime)) : '',
        diff,
      ]);
      if (e?.type === 'file') prev = ev.snapshot.id;
      else if (!e) prev = undefined;
    }
    out.push(`<p class="muted">Host ${esc(g.host)}, paths ${esc(g.paths.join(', '))}: present in ${g.present} of ${g.total} snapshots</p>`);
    out.push(table(['Snapshot time', 'ID', 'Change', 'Size', 'Modified', 'Diff'], rows.reverse(), new Set([3])));
  }
  return out.length ? out.join('\n') : '<p class="muted">No versions found.</p>';
}
