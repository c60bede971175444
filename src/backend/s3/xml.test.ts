import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { XmlError, type XmlElement, escapeXml, parseErrorXml, parseListObjectsV2, parseXml } from './xml.ts';

/** Text that XML 1.0 can carry (no control characters but tab/newline, no lone surrogates). */
// oxlint-disable-next-line no-control-regex -- control characters are what is being matched
const xmlText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\r]/g, ''));
const xmlName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/);

interface Tree {
  name: string;
  text: string;
  children: Tree[];
}
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.record({
    name: xmlName,
    text: xmlText,
    children: fc.oneof({ maxDepth: 4, depthIdentifier: 'tree' }, fc.constant<Tree[]>([]), fc.array(tie('tree'), { maxLength: 3 })),
  }),
}));

function serialize(t: Tree, cdata: boolean): string {
  const text = cdata && !t.text.includes(']]>') ? `<![CDATA[${t.text}]]>` : escapeXml(t.text);
  return `<${t.name} a="1 > 0" b='x'>${text}${t.children.map((c) => serialize(c, cdata)).join('')}</${t.name}>`;
}

function plain(t: Tree): Tree {
  return { name: t.name, text: t.text, children: t.children.map(plain) };
}

function strip(e: XmlElement): Tree {
  return { name: e.name, text: e.text, children: e.children.map(strip) };
}

test('xml: any tree serialized (escaped or as CDATA) parses back to itself', () => {
  fc.assert(
    fc.property(tree, fc.boolean(), (t, cdata) => {
      const doc = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->${serialize(t, cdata)}\n`;
      assert.deepEqual(strip(parseXml(doc)), plain(t));
    }),
  );
});

test('xml: arbitrary input either parses or throws XmlError, quickly', () => {
  const alphabet = fc.constantFrom('<', '>', '/', '!', '?', '-', '[', ']', 'CDATA', 'a', 'b', ' ', '&', ';', '#', 'x', '"', "'", '=', '&amp;', '&#1;');
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 60 }).map((a) => a.join(''))), (s) => {
      try {
        parseXml(s);
      } catch (e) {
        assert.ok(e instanceof XmlError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('xml: entities and character references decode; unknown names stay as written', () => {
  const r = parseXml('<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;&eacute; & x</a>');
  assert.equal(r.text, `<>&"'A\u{1F600}&eacute; & x`);
  assert.throws(() => parseXml('<a>&#xD800;</a>'), XmlError);
  assert.throws(() => parseXml('<a>&#0;</a>'), XmlError);
});

test('xml: hostile documents are refused', () => {
  assert.throws(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'), /DTD/);
  assert.throws(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100)), /deeper/);
  assert.throws(() => parseXml('<a></b>'), XmlError);
  assert.throws(() => parseXml('<a/><b/>'), /more than one root/);
  assert.throws(() => parseXml('text'), XmlError);
  assert.throws(() => parseXml(''), /no root/);
  assert.throws(() => parseXml('<a><![CDATA[x</a>'), /CDATA/);
  assert.throws(() => parseXml(`<a>${'x'.repeat(100)}</a>`, { maxLength: 50 }), /too large/);
  // deep nesting is refused without recursion: no stack overflow on a huge document
  assert.throws(() => parseXml('<a>'.repeat(200_000)), /deeper/);
});

const LIST_V2 = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>repo/data/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>repo/data/ab/one</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>repo/data/cd/a &amp; b</Key><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>repo/keys/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>`;

test('ListObjectsV2: keys, sizes, common prefixes, truncation and the continuation token', () => {
  const p = parseListObjectsV2(LIST_V2);
  assert.deepEqual(p.contents, [
    { key: 'repo/data/ab/one', size: 434234 },
    { key: 'repo/data/cd/a & b', size: 0 },
  ]);
  assert.deepEqual(p.prefixes, ['repo/keys/']);
  assert.equal(p.isTruncated, true);
  assert.equal(p.nextContinuationToken, '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=');
  const last = parseListObjectsV2('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>');
  assert.deepEqual(last, { contents: [], prefixes: [], isTruncated: false });
  assert.throws(() => parseListObjectsV2('<Error><Code>x</Code></Error>'), /ListBucketResult/);
  assert.throws(() => parseListObjectsV2('<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>'), XmlError);
});

test('ListObjectsV2: generated pages round trip', () => {
  const entry = fc.record({ key: xmlText.filter((s) => s.length > 0), size: fc.nat() });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 20 }), fc.boolean(), fc.option(xmlText.filter((s) => s.length > 0), { nil: undefined }), (contents, truncated, token) => {
      const xml =
        `<ListBucketResult>${contents.map((c) => `<Contents><Key>${escapeXml(c.key)}</Key><Size>${c.size}</Size></Contents>`).join('\n')}` +
        `<IsTruncated>${truncated}</IsTruncated>${token === undefined ? '' : `<NextContinuationToken>${escapeXml(token)}</NextContinuationToken>`}</ListBucketResult>`;
      const p = parseListObjectsV2(xml);
      assert.deepEqual(p.contents, contents.map((c) => ({ ...c })));
      assert.equal(p.isTruncated, truncated);
      assert.equal(p.nextContinuationToken, token);
    }),
  );
});

test('error bodies: Code, Message, Region; anything else is undefined, never an exception', () => {
  const xml = '<?xml version="1.0"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region is wrong</Message><Region>eu-west-1</Region><RequestId>1</RequestId></Error>';
  assert.deepEqual(parseErrorXml(xml), { code: 'AuthorizationHeaderMalformed', message: 'the region is wrong', region: 'eu-west-1' });
  assert.equal(parseErrorXml('<html><body>Bad Gateway</body></html>'), undefined);
  assert.equal(parseErrorXml('not xml at all <'), undefined);
  assert.equal(parseErrorXml(''), undefined);
  fc.assert(fc.property(fc.string(), (s) => void parseErrorXml(s)));
});
