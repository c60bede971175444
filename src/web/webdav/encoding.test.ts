import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { VNode } from '../../browse/vfs.ts';
import { BadPath, contentType, encodeSegment, hrefOf, httpDate, isoDate, parseRange, parseTarget, xmlEscape } from './encoding.ts';
import { FINITE_DEPTH_XML, listingHtml, multistatusXml } from './propfind.ts';

test('parseTarget decodes components and refuses path tricks', () => {
  assert.deepEqual(parseTarget('/'), []);
  assert.deepEqual(parseTarget('/a//b%20c/?q=1'), ['a', 'b c']);
  assert.deepEqual(parseTarget('/caf%C3%A9/%5Cx41'), ['café', '\\x41']);
  for (const bad of ['/a/%2e%2e/b', '/..', '/a/./b', '/%2E', '/a%2fb', '/a%2Fb', '/a%00b', '/a%zz', '/a%4', 'a/b', '']) {
    assert.throws(() => parseTarget(bad), BadPath, bad);
  }
  const overlong = parseTarget('/%c0%ae%c0%ae');
  assert.ok(Buffer.isBuffer(overlong[0]), 'an overlong ".." stays raw bytes, which no UTF-8 name matches');
  assert.deepEqual(parseTarget('/n%E9'), [Buffer.from([0x6e, 0xe9])]);
});

test('encodeSegment and parseTarget round-trip any name (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { maxLength: 5 }), (names) => {
      const ok = names.filter((n) => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0'));
      assert.deepEqual(parseTarget(hrefOf(ok, true)), ok);
    }),
    { numRuns: 300 },
  );
  assert.equal(encodeSegment('a b#?%/é'), 'a%20b%23%3F%25%2F%C3%A9');
  assert.equal(hrefOf([], true), '/');
  assert.equal(hrefOf(['d', 'f'], false), '/d/f');
  assert.equal(hrefOf(['d'], true), '/d/');
});

test('XML escaping, dates, content types', () => {
  assert.equal(xmlEscape(`<a & "b" 'c'>`), '&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
  assert.equal(xmlEscape('x\u0001y\tz'), 'x\uFFFDy\tz');
  assert.equal(httpDate(Date.UTC(2026, 10, 24, 22, 30, 5)), 'Tue, 24 Nov 2026 22:30:05 GMT');
  assert.equal(isoDate(Date.UTC(2026, 10, 24, 22, 30, 5, 123)), '2026-11-24T22:30:05Z');
  assert.equal(contentType('a.TXT'), 'text/plain; charset=utf-8');
  assert.equal(contentType('noext'), 'application/octet-stream');
});

test('parseRange: one range, suffix, open end, unsatisfiable, ignored forms', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=95-200', 100), { start: 95, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange(undefined, 100), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange('items=0-1', 100), undefined);
  assert.equal(parseRange('bytes=9-1', 100), undefined);
});

const file: VNode = { name: 'a <b>.txt', stat: { type: 'file', size: 12, mtimeMs: Date.UTC(2026, 0, 2), mode: 0o644, etag: 'abc' } };
const dir: VNode = { name: 'd', stat: { type: 'dir', size: 0, mtimeMs: 0, mode: 0o555, etag: 'def' }, children: () => [] };

test('multistatus XML carries every live property, hrefs encoded per segment', () => {
  const xml = multistatusXml([{ names: ['d'], v: dir }, { names: ['d', 'a <b>.txt'], v: file }]);
  assert.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?>\n<D:multistatus xmlns:D="DAV:">/);
  assert.match(xml, /<D:href>\/d\/<\/D:href>.*<D:resourcetype><D:collection\/><\/D:resourcetype>/);
  assert.match(xml, /<D:href>\/d\/a%20%3Cb%3E.txt<\/D:href>/);
  assert.match(xml, /<D:displayname>a &lt;b&gt;.txt<\/D:displayname>/);
  assert.match(xml, /<D:getcontentlength>12<\/D:getcontentlength>/);
  assert.match(xml, /<D:getlastmodified>Fri, 02 Jan 2026 00:00:00 GMT<\/D:getlastmodified>/);
  assert.match(xml, /<D:creationdate>2026-01-02T00:00:00Z<\/D:creationdate>/);
  assert.match(xml, /<D:getetag>&quot;abc&quot;<\/D:getetag>/);
  assert.match(xml, /<D:getcontenttype>text\/plain; charset=utf-8<\/D:getcontenttype>/);
  assert.equal((xml.match(/<D:response>/g) ?? []).length, 2);
  assert.match(FINITE_DEPTH_XML, /<D:propfind-finite-depth\/>/);
  const html = listingHtml(['d'], [{ names: ['d', 'a <b>.txt'], v: file }]);
  assert.match(html, /<a href="\/d\/a%20%3Cb%3E.txt">a &lt;b&gt;.txt<\/a>/);
  assert.match(html, /<a href="\/">..\/<\/a>/);
});
