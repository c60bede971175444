/**
 * The WebDAV server's text pieces: request paths to safe components, hrefs, XML escaping, HTTP dates, Range headers
 * and content types. Pure functions (tested in encoding.test.ts).
 */

/** A request path that must be refused: `status` 400 (malformed or a path trick). */
export class BadPath extends Error {
  readonly status = 400;
}

const STRICT = new TextDecoder('utf-8', { fatal: true });

/**
 * The raw request target (`/a/b%20c/`) → decoded components. Query and fragment are dropped. Refused (BadPath):
 * a target not starting with "/", a malformed %-escape, an encoded "/" or NUL, and "." / ".." components in any
 * spelling (they are never resolved: a client has no business sending them). A component that is not valid UTF-8
 * after decoding (overlong forms such as %c0%ae among them) is returned as raw bytes, which only an exact name matches.
 */
export function parseTarget(target: string): (string | Buffer)[] {
  const path = target.split(/[?#]/, 1)[0] ?? '';
  if (!path.startsWith('/')) throw new BadPath('request path must start with "/"');
  const out: (string | Buffer)[] = [];
  for (const seg of path.split('/')) {
    if (seg === '') continue;
    const raw = percentDecode(seg);
    if (raw.includes(0x2f)) throw new BadPath('encoded "/" in a path component');
    if (raw.includes(0)) throw new BadPath('NUL in a path component');
    let s: string | undefined;
    try {
      s = STRICT.decode(raw);
    } catch {
      s = undefined;
    }
    if (s === '.' || s === '..') throw new BadPath('"." and ".." are not allowed in paths');
    out.push(s ?? raw);
  }
  return out;
}

function percentDecode(seg: string): Buffer {
  const bytes: number[] = [];
  const utf8 = Buffer.from(seg, 'utf8');
  for (let i = 0; i < utf8.length; i++) {
    const c = utf8[i] as number;
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = utf8.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new BadPath('malformed %-escape in the path');
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

/** Percent-encodes one shown name for an href: everything but RFC 3986 unreserved characters. */
export function encodeSegment(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** "/" + encoded names joined by "/", plus a trailing "/" for a collection. */
export function hrefOf(names: readonly string[], collection: boolean): string {
  const p = `/${names.map(encodeSegment).join('/')}`;
  return collection && names.length > 0 ? `${p}/` : p;
}

const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for XML/HTML; characters XML 1.0 cannot carry (C0 controls but tab/LF/CR) become U+FFFD. */
export function xmlEscape(s: string): string {
  // oxlint-disable-next-line no-control-regex -- replacing control characters is the point
  return s.replace(/[&<>"']/g, (c) => XML_ESC[c] ?? c).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\uFFFD');
}

/** RFC 1123 date (HTTP-date), as getlastmodified and Last-Modified want it. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** RFC 3339 date, as creationdate wants it. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A single byte range [start, end] (inclusive), 'unsatisfiable', or undefined (no or unsupported header: whole body). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined; // several ranges or another unit: RFC 9110 lets a server ignore Range
  const [a, b] = [m[1] ?? '', m[2] ?? ''];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

const TYPES: Record<string, string> = {
  txt: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8',
  css: 'text/css', js: 'text/javascript', json: 'application/json', xml: 'application/xml', csv: 'text/csv',
  pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml', webp: 'image/webp',
  mp3: 'audio/mpeg', mp4: 'video/mp4', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar',
};

/** A content type from the name's extension; application/octet-stream when unknown. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? TYPES[name.slice(dot + 1).toLowerCase()] : undefined) ?? 'application/octet-stream';
}
