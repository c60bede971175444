/**
 * A small, safe XML reader for the few S3 answers PyBackup reads (ListObjectsV2 results, errors). It builds a tree
 * of elements with their direct text; attributes and namespaces are skipped. Safe by construction: no DTDs (a
 * DOCTYPE is refused, so no entity expansion), no recursion (an explicit stack), bounded depth and input size.
 * Malformed input throws XmlError, never anything else, and never hangs.
 */

export interface XmlElement {
  /** Local name (any "prefix:" removed). */
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's own character data (CDATA included), entities decoded, children's text excluded. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

export interface XmlLimits {
  readonly maxDepth?: number;
  readonly maxLength?: number;
}

const NAME_RE = /^[A-Za-z_:][-A-Za-z0-9_:.\u00b7\u00c0-\uffff]*/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(xml: string, limits: XmlLimits = {}): XmlElement {
  const maxDepth = limits.maxDepth ?? 64;
  const maxLength = limits.maxLength ?? 64 << 20;
  if (xml.length > maxLength) throw new XmlError(`document too large (${xml.length} characters)`);
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const addText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
    else if (t.trim() !== '') throw new XmlError('text outside the root element');
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      addText(decodeEntities(xml.slice(i)));
      break;
    }
    if (lt > i) addText(decodeEntities(xml.slice(i, lt)));
    if (xml.startsWith('<?', lt)) {
      i = skipPast(xml, lt + 2, '?>', 'processing instruction');
    } else if (xml.startsWith('<!--', lt)) {
      i = skipPast(xml, lt + 4, '-->', 'comment');
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt + 9);
      if (end < 0) throw new XmlError('unterminated CDATA section');
      if (stack.length === 0) throw new XmlError('CDATA outside the root element');
      addText(xml.slice(lt + 9, end));
      i = end + 3;
    } else if (xml.startsWith('<!', lt)) {
      throw new XmlError('DTDs and declarations are not accepted');
    } else if (xml.startsWith('</', lt)) {
      const gt = xml.indexOf('>', lt + 2);
      if (gt < 0) throw new XmlError('unterminated end tag');
      const name = localName(xml.slice(lt + 2, gt).trim());
      const top = stack.pop();
      if (!top || top.name !== name) throw new XmlError(`unexpected end tag </${name}>`);
      i = gt + 1;
    } else {
      const m = NAME_RE.exec(xml.slice(lt + 1, lt + 1 + 256));
      if (!m) throw new XmlError(`bad tag at offset ${lt}`);
      const { end, selfClosing } = tagEnd(xml, lt + 1 + m[0].length);
      const el: XmlElement = { name: localName(m[0]), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlError('more than one root element');
      else root = el;
      if (!selfClosing) {
        if (stack.length >= maxDepth) throw new XmlError(`nesting deeper than ${maxDepth}`);
        stack.push(el);
      }
      i = end;
    }
  }
  if (stack.length > 0) throw new XmlError(`unclosed element <${stack[stack.length - 1]?.name}>`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** Index just past the tag's ">" (attribute values may hold ">" inside quotes). */
function tagEnd(xml: string, from: number): { end: number; selfClosing: boolean } {
  let quote = '';
  for (let j = from; j < xml.length; j++) {
    const c = xml[j];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '<') {
      throw new XmlError(`"<" inside a tag at offset ${j}`);
    } else if (c === '>') {
      return { end: j + 1, selfClosing: xml[j - 1] === '/' };
    }
  }
  throw new XmlError('unterminated tag');
}

function skipPast(xml: string, from: number, end: string, what: string): number {
  const k = xml.indexOf(end, from);
  if (k < 0) throw new XmlError(`unterminated ${what}`);
  return k + end.length;
}

function localName(name: string): string {
  const k = name.indexOf(':');
  return k < 0 ? name : name.slice(k + 1);
}

/** The five predefined entities and character references; an unknown name or a bare "&" is kept as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z][A-Za-z0-9]{0,31});/g, (all, ref: string) => {
    if (ref[0] !== '#') return PREDEFINED[ref] ?? all;
    const cp = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) throw new XmlError(`bad character reference ${all}`);
    return String.fromCodePoint(cp);
  });
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`);
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childText(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text;
}

export interface ListPage {
  readonly contents: { key: string; size: number }[];
  /** CommonPrefixes (with a delimiter). */
  readonly prefixes: string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken?: string;
}

/** A ListObjectsV2 result (ListBucketResult). Throws XmlError when it is not one. */
export function parseListObjectsV2(xml: string): ListPage {
  const root = parseXml(xml);
  if (root.name !== 'ListBucketResult') throw new XmlError(`expected ListBucketResult, got <${root.name}>`);
  const contents: { key: string; size: number }[] = [];
  const prefixes: string[] = [];
  for (const c of root.children) {
    if (c.name === 'Contents') {
      const key = childText(c, 'Key');
      const sizeText = childText(c, 'Size')?.trim() ?? '';
      if (key === undefined || !/^\d{1,16}$/.test(sizeText)) throw new XmlError('a Contents entry without a Key or a valid Size');
      contents.push({ key, size: Number(sizeText) });
    } else if (c.name === 'CommonPrefixes') {
      const p = childText(c, 'Prefix');
      if (p !== undefined) prefixes.push(p);
    }
  }
  const truncated = childText(root, 'IsTruncated')?.trim().toLowerCase() === 'true';
  const token = childText(root, 'NextContinuationToken');
  return { contents, prefixes, isTruncated: truncated, ...(token ? { nextContinuationToken: token } : {}) };
}

export interface S3ErrorBody {
  readonly code?: string;
  readonly message?: string;
  readonly region?: string;
  readonly endpoint?: string;
}

/** The Code, Message (and Region, Endpoint) of an <Error> body; undefined for anything else. Never throws. */
export function parseErrorXml(xml: string): S3ErrorBody | undefined {
  let root: XmlElement;
  try {
    root = parseXml(xml, { maxLength: 1 << 20 });
  } catch {
    return undefined;
  }
  if (root.name !== 'Error') return undefined;
  const out: Record<string, string> = {};
  for (const [k, n] of [['code', 'Code'], ['message', 'Message'], ['region', 'Region'], ['endpoint', 'Endpoint']] as const) {
    const t = childText(root, n)?.trim();
    if (t) out[k] = t;
  }
  return out;
}
