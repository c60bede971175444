/**
 * HTML building blocks for the web UI. Every piece of data reaches the page through `esc` (text and attribute
 * values), so names from a snapshot (any bytes, shown through displayName) can never become markup.
 */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a double- or single-quoted attribute value. */
export function esc(s: string | number | bigint | undefined): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

/** A query string from parameters (undefined and empty values left out). */
export function qs(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, v);
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}

/** An anchor; `href` is built by the caller from fixed paths and qs(), and is escaped here as an attribute. */
export function link(href: string, text: string): string {
  return `<a href="${esc(href)}">${esc(text)}</a>`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** A node's mtime (ns since the epoch, as a decimal string) as "YYYY-MM-DD HH:MM:SS" UTC. */
export function formatNs(ns: string | undefined): string {
  if (ns === undefined || !/^-?\d+$/.test(ns)) return '';
  const ms = Number(BigInt(ns) / 1_000_000n);
  return formatTime(new Date(ms).toISOString());
}

/** An ISO time as "YYYY-MM-DD HH:MM:SS" (UTC; snapshot times keep their own offset out of the table). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

const TYPE_CHAR: Record<string, string> = { dir: 'd', symlink: 'l', fifo: 'p', chardev: 'c', blockdev: 'b', socket: 's' };

/** "drwxr-xr-x"-style mode. */
export function formatMode(type: string, mode: number): string {
  let s = TYPE_CHAR[type] ?? '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? rwx[i] : '-';
  if (mode & 0o4000) s = `${s.slice(0, 3)}${mode & 0o100 ? 's' : 'S'}${s.slice(4)}`;
  if (mode & 0o2000) s = `${s.slice(0, 6)}${mode & 0o010 ? 's' : 'S'}${s.slice(7)}`;
  if (mode & 0o1000) s = `${s.slice(0, 9)}${mode & 0o001 ? 't' : 'T'}`;
  return s;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.4rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;opacity:.9}header a:hover{opacity:1;text-decoration:underline}
header .brand{font-weight:700;font-size:1.05rem}
main{max-width:1200px;margin:1.2rem auto;padding:0 1.2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e7}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eceff3;vertical-align:top}
th{background:#eef1f5;font-weight:600}tr:hover td{background:#f9fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
a{color:#1f5fbf}
.crumbs{margin:.2rem 0 1rem}.crumbs a,.crumbs span{margin-right:.25rem}
.card{background:#fff;border:1px solid #dde1e7;padding:1rem 1.2rem;margin-bottom:1rem}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1.2rem;margin:0}dl.kv dt{color:#5a6473}dl.kv dd{margin:0}
form.inline{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end;margin-bottom:1rem}
label{display:flex;flex-direction:column;font-size:.85rem;color:#5a6473}
input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid #b9c1cc;border-radius:3px}
button,.button{background:#1f5fbf;color:#fff;border-color:#1f5fbf;cursor:pointer;text-decoration:none;padding:.3rem .8rem;display:inline-block;border-radius:3px}
.muted{color:#6b7585}.err{background:#fdecec;border:1px solid #e3a1a1;color:#8a1c1c;padding:.6rem .9rem;margin-bottom:1rem}
.ok{background:#eaf6ec;border:1px solid #9fd0a8;padding:.6rem .9rem;margin-bottom:1rem}
pre.diff{background:#fff;border:1px solid #dde1e7;padding:.5rem 0;overflow-x:auto;margin:0 0 1rem}
pre.diff span{display:block;padding:0 .8rem;white-space:pre}
.add{background:#e6ffec}.del{background:#ffebe9}.hunk{background:#ddf4ff;color:#345}
progress{width:100%;height:1.1rem}
`;

export interface PageOptions {
  readonly title: string;
  /** extra elements for <head> (already escaped) */
  readonly head?: string;
}

/** The whole page around `body` (already escaped HTML). */
export function page(o: PageOptions, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(o.title)} · PyBackup</title><style>${CSS}</style>${o.head ?? ''}</head>
<body><header><span class="brand">PyBackup</span><a href="/">Overview</a><a href="/snapshots">Snapshots</a><a href="/search">Search</a></header>
<main>${body}</main></body></html>`;
}

/** A table from a header row and body rows of cells (already escaped HTML); `num` marks right-aligned columns. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], num: ReadonlySet<number> = new Set()): string {
  const th = head.map((h, i) => `<th${num.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${num.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

export function errorBox(message: string): string {
  return `<div class="err">${esc(message)}</div>`;
}
