import { PyBackupError, UsageError } from '../errors.ts';
import { type Node, nodeNameBytes } from '../model/node.ts';
import type { TreeEntry } from '../model/tree-entry.ts';
import type { TreeStore } from './tree-store.ts';

/** A path that does not exist in a snapshot (or leads through a non-directory). */
export class PathNotFoundError extends PyBackupError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/**
 * "SNAPSHOT[:PATH]" -> its parts. The snapshot part is "latest" or a hex ID (prefix), so the first ":" separates;
 * the path may contain further colons. `path` is undefined without a ":" and "/" for "ID:" or "ID:/".
 */
export function parseRef(ref: string): { snapshot: string; path: string | undefined } {
  const colon = ref.indexOf(':');
  const snapshot = colon < 0 ? ref : ref.slice(0, colon);
  if (snapshot === '') throw new UsageError(`missing snapshot ID in ${JSON.stringify(ref)}: use SNAPSHOT:PATH, e.g. latest:/home`);
  if (colon < 0) return { snapshot, path: undefined };
  const path = ref.slice(colon + 1);
  return { snapshot, path: path === '' ? '/' : path };
}

/** "/a//b/./c/../d/" -> ["a", "b", "d"]: snapshot paths are absolute; ".." never climbs above the root. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}

const STRICT = new TextDecoder('utf-8', { fatal: true });
// C0 and C1 control characters and DEL: they would move the cursor or garble a terminal
// oxlint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * How a raw name is shown in text output. A valid UTF-8 name without control characters is shown as it is;
 * otherwise backslashes are doubled and each control character or byte of an invalid sequence becomes `\xNN`
 * (`\n`, `\t`, `\r` for those three). Such a shown form is accepted back as a path (see matchComponent).
 */
export function displayName(raw: Uint8Array): string {
  let s: string | undefined;
  try {
    s = STRICT.decode(raw);
  } catch {
    s = undefined;
  }
  if (s !== undefined && !CONTROL.test(s)) return s;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const len = utf8SeqLength(raw, i);
    if (len > 0) {
      const ch = Buffer.from(raw.subarray(i, i + len)).toString('utf8');
      out += ch === '\\' ? '\\\\' : CONTROL.test(ch) ? escapeChar(ch.codePointAt(0) ?? 0) : ch;
      i += len;
    } else {
      out += `\\x${(raw[i] ?? 0).toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/** displayName of a node's name, without a bytes round trip for the common plain UTF-8 name. */
export function nodeDisplayName(n: Pick<Node, 'name' | 'nameRaw'>): string {
  return n.nameRaw === undefined && !CONTROL.test(n.name) && !n.name.includes('\uFFFD') ? n.name : displayName(nodeNameBytes(n));
}

function escapeChar(cp: number): string {
  if (cp === 10) return '\\n';
  if (cp === 9) return '\\t';
  if (cp === 13) return '\\r';
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return Array.from(Buffer.from(String.fromCodePoint(cp)), (b) => `\\x${b.toString(16)}`).join('');
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0. */
function utf8SeqLength(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n <= 1) return n;
  if (i + n > b.length) return 0;
  try {
    STRICT.decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}

/** Reverses displayName's escapes; undefined when `s` has none or a malformed one. */
export function unescapeName(s: string): Buffer | undefined {
  if (!s.includes('\\')) return undefined;
  const parts: Buffer[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      lit += c;
      continue;
    }
    const n = s[i + 1];
    if (n === '\\') lit += '\\';
    else if (n === 'n') lit += '\n';
    else if (n === 't') lit += '\t';
    else if (n === 'r') lit += '\r';
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      parts.push(Buffer.from(lit, 'utf8'), Buffer.from([Number.parseInt(s.slice(i + 2, i + 4), 16)]));
      lit = '';
      i += 2;
    } else return undefined;
    i++;
  }
  parts.push(Buffer.from(lit, 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Finds the item named `component` among `items`. Tried in order: the exact UTF-8 bytes; the lossy display form
 * (what a shell hands over for a name that is not UTF-8: each bad byte becomes U+FFFD), which must be unambiguous;
 * the escaped form that text output shows (displayName).
 */
export function matchComponent<T>(items: readonly T[], nameOf: (t: T) => Buffer, component: string): T | undefined {
  const exact = Buffer.from(component, 'utf8');
  for (const it of items) if (nameOf(it).equals(exact)) return it;
  if (component.includes('\uFFFD')) {
    const hits = items.filter((it) => nameOf(it).toString('utf8') === component);
    if (hits.length > 1) throw new UsageError(`path component ${JSON.stringify(component)} is ambiguous (${hits.length} names differ only in bytes that are not UTF-8); use the escaped form that ls shows`);
    if (hits[0] !== undefined) return hits[0];
  }
  const raw = unescapeName(component);
  if (raw) for (const it of items) if (nameOf(it).equals(raw)) return it;
  return undefined;
}

/** Where a path led: the node (undefined for the snapshot root), its tree id when it is a directory, its raw parts. */
export interface Resolved {
  readonly node: Node | undefined;
  readonly treeId: string | undefined;
  readonly parts: readonly Buffer[];
}

/** Follows `path` from the root tree over full nodes (bytes-safe). Throws PathNotFoundError naming where it stopped. */
export async function resolvePath(store: TreeStore, rootTree: string, path: string, where: string, signal?: AbortSignal): Promise<Resolved> {
  const comps = splitPath(path);
  let treeId: string | undefined = rootTree;
  let node: Node | undefined;
  const parts: Buffer[] = [];
  for (const c of comps) {
    if (treeId === undefined) throw new PathNotFoundError(`${showPath(parts)} in ${where} is not a directory (looking for ${JSON.stringify(path)})`);
    const tree = await store.tree(treeId, signal);
    node = matchComponent(tree.nodes, nodeNameBytes, c);
    if (!node) throw new PathNotFoundError(`path ${JSON.stringify(path)} not found in ${where}: ${showPath(parts) || '/'} has no entry ${JSON.stringify(c)}`);
    parts.push(nodeNameBytes(node));
    treeId = node.type === 'dir' ? node.subtree : undefined;
  }
  return { node, treeId, parts };
}

/** Like resolvePath over the compact entries (tree catalog); undefined when the path does not exist. */
export async function resolveEntry(store: TreeStore, rootTree: string, comps: readonly string[], signal?: AbortSignal): Promise<{ entry: TreeEntry; parts: Buffer[] } | undefined> {
  let treeId: string | undefined = rootTree;
  let entry: TreeEntry | undefined;
  const parts: Buffer[] = [];
  for (const c of comps) {
    if (treeId === undefined) return undefined;
    entry = matchComponent(await store.entries(treeId, signal), (e) => e.name, c);
    if (!entry) return undefined;
    parts.push(entry.name);
    treeId = entry.type === 'dir' ? entry.subtree : undefined;
  }
  return entry ? { entry, parts } : undefined;
}

/** "/" + display names joined with "/". */
export function showPath(parts: readonly Uint8Array[]): string {
  return parts.length === 0 ? '' : `/${parts.map(displayName).join('/')}`;
}

/** The raw bytes of "/a/b" (for JSON `path_raw`). */
export function rawPath(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => [Buffer.from('/'), p]));
}

/** True when every part is valid UTF-8 (then the plain path string is exact). */
export function isUtf8Path(parts: readonly Uint8Array[]): boolean {
  return parts.every((p) => {
    try {
      STRICT.decode(p);
      return true;
    } catch {
      return false;
    }
  });
}
