import type { ServerResponse } from 'node:http';
import { Finder } from '../../browse/find.ts';
import { showPath } from '../../browse/path.ts';
import { compilePatterns } from '../../browse/pattern.ts';
import { PyBackupError } from '../../errors.ts';
import { matchesFilter } from '../../repository/snapshots.ts';
import { errorBox, esc, formatBytes, formatNs, formatTime, link, page, qs, table } from './html.ts';
import { type Req, param, sendHtml } from './http.ts';
import type { UiState } from './state.ts';

const MAX_RESULTS = 1000;

/** GET /search?q=PATTERN&host=&ic=1 — find nodes across snapshots (glob, or "re:REGEX"), newest snapshots first. */
export async function searchPage(st: UiState, req: Req, res: ServerResponse): Promise<void> {
  const q = param(req.url, 'q') ?? '';
  const host = param(req.url, 'host') ?? '';
  const ic = param(req.url, 'ic') === '1';
  const form = `<h1>Search</h1>
<form class="inline" method="get" action="/search">
<label>Name or path pattern (glob, or re:REGEX)<input name="q" size="40" value="${esc(q)}" placeholder="*.txt" autofocus></label>
<label>Host<input name="host" value="${esc(host)}" placeholder="any"></label>
<label><span>Ignore case</span><input type="checkbox" name="ic" value="1"${ic ? ' checked' : ''}></label>
<button type="submit">Search</button></form>
<p class="muted">A pattern without "/" matches names (<code>*.pdf</code>); with "/" it matches paths (<code>/home/*/notes.txt</code>, <code>docs/**</code>). <code>re:</code> starts a regular expression.</p>`;
  if (q === '') {
    sendHtml(res, 200, page({ title: 'Search' }, form));
    return;
  }
  let match;
  try {
    match = compilePatterns([q], { ignoreCase: ic });
  } catch (e) {
    if (!(e instanceof PyBackupError)) throw e;
    sendHtml(res, 400, page({ title: 'Search' }, form + errorBox(e.message)));
    return;
  }
  const snaps = (await st.snapshots()).filter((s) => matchesFilter(s, { hosts: host ? [host] : [] })).reverse();
  const finder = new Finder(st.deps.store, { match });
  const rows: string[][] = [];
  let total = 0;
  for (const s of snaps) {
    const found = await finder.find(s.tree, req.signal);
    total += found.length;
    for (const m of found) {
      if (rows.length >= MAX_RESULTS) break;
      const p = showPath(m.parts);
      const href = m.entry.type === 'dir' ? `/browse${qs({ snap: s.id, p })}` : `/file${qs({ snap: s.id, p })}`;
      rows.push([link(href, p + (m.entry.type === 'dir' ? '/' : '')), esc(m.entry.type === 'file' ? formatBytes(m.entry.size) : m.entry.type), esc(formatNs(m.entry.mtime)), `<span class="mono">${esc(s.id.slice(0, 8))}</span> ${esc(formatTime(s.time))}`, esc(s.hostname)]);
    }
  }
  const note = total > rows.length ? `<p class="muted">Showing ${rows.length} of ${total} matches; narrow the pattern to see the rest.</p>` : `<p class="muted">${total} matches in ${snaps.length} snapshots.</p>`;
  sendHtml(res, 200, page({ title: `Search ${q}` }, form + note + (rows.length ? table(['Path', 'Size', 'Modified (UTC)', 'Snapshot', 'Host'], rows, new Set([1])) : '')));
}
