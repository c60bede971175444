import type { VNode } from '../../browse/vfs.ts';
import { contentType, hrefOf, httpDate, isoDate, xmlEscape } from './encoding.ts';

/** One resource of a multistatus answer: its path (shown names) and node. */
export interface Resource {
  readonly names: readonly string[];
  readonly v: VNode;
}

/** The strong ETag of a node (quoted, from its tree or content blob ids, so it is stable across servers). */
export function etagOf(v: VNode): string {
  return `"${v.stat.etag}"`;
}

/** A `D:response` with the live properties of one resource (allprop: every client gets the same set). */
export function responseXml(r: Resource): string {
  const st = r.v.stat;
  const dir = st.type === 'dir';
  const name = r.names[r.names.length - 1] ?? '';
  const props = [
    `<D:displayname>${xmlEscape(name)}</D:displayname>`,
    `<D:creationdate>${isoDate(st.mtimeMs)}</D:creationdate>`,
    `<D:getlastmodified>${httpDate(st.mtimeMs)}</D:getlastmodified>`,
    `<D:getetag>${xmlEscape(etagOf(r.v))}</D:getetag>`,
    dir ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>',
    ...(dir ? [] : [`<D:getcontentlength>${st.size}</D:getcontentlength>`, `<D:getcontenttype>${xmlEscape(contentType(name))}</D:getcontenttype>`]),
    '<D:supportedlock/>',
  ];
  return `<D:response><D:href>${xmlEscape(hrefOf(r.names, dir))}</D:href><D:propstat><D:prop>${props.join('')}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
}

/** The 207 body for a PROPFIND. */
export function multistatusXml(rs: readonly Resource[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">${rs.map(responseXml).join('\n')}</D:multistatus>\n`;
}

/** The 403 body for Depth: infinity (RFC 4918 §9.1). */
export const FINITE_DEPTH_XML = '<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>\n';

/** A tiny HTML listing for GET on a collection. */
export function listingHtml(names: readonly string[], entries: readonly Resource[]): string {
  const title = xmlEscape(`/${names.join('/')}`);
  const rows = entries.map((e) => {
    const dir = e.v.stat.type === 'dir';
    const n = e.names[e.names.length - 1] ?? '';
    const size = dir ? '' : String(e.v.stat.size);
    return `<tr><td><a href="${xmlEscape(hrefOf(e.names, dir))}">${xmlEscape(n)}${dir ? '/' : ''}</a></td><td>${size}</td><td>${isoDate(e.v.stat.mtimeMs)}</td></tr>`;
  });
  const up = names.length > 0 ? `<tr><td><a href="${xmlEscape(hrefOf(names.slice(0, -1), true))}">../</a></td><td></td><td></td></tr>` : '';
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><table>${up}${rows.join('\n')}</table></body></html>\n`;
}
