import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'smol-toml';
import { type KeyPath, scanPositions } from './toml-positions.ts';

const DOC = `# a comment with = and [brackets]
title = "x" # trailing
[profiles.home]
repository = "/srv/repo"
paths = [
  "/home", # first
  '/etc',
]
"quoted key" = 1
'lit.key' = 2
dotted . deep = true
when = 1979-05-27 07:32:00Z
text = """
line [not.a.table]
key = "not a key"
"""
raw = '''a
b'''
inline = { a = 1, b.c = "x", d = [1, 2] }

  [ profiles . "work" ]
hooks.before = ["a", "b"]

[[servers]]
name = "one"
[[servers]]
name = "two"
`;

test('keys and values of every kind are located', () => {
  const p = scanPositions(DOC);
  parse(DOC); // the document is valid TOML
  const key = (path: KeyPath): string => {
    const l = p.get(path);
    assert.ok(l, `no position for ${JSON.stringify(path)}`);
    return `${l.key.line}:${l.key.column}`;
  };
  const value = (path: KeyPath): string => {
    const v = p.get(path)?.value;
    assert.ok(v, `no value position for ${JSON.stringify(path)}`);
    return `${v.line}:${v.column}`;
  };
  assert.equal(key(['title']), '2:1');
  assert.equal(value(['title']), '2:9');
  assert.equal(key(['profiles']), '3:2');
  assert.equal(key(['profiles', 'home']), '3:11');
  assert.equal(key(['profiles', 'home', 'repository']), '4:1');
  assert.equal(value(['profiles', 'home', 'paths']), '5:9');
  assert.equal(key(['profiles', 'home', 'paths', 0]), '6:3');
  assert.equal(key(['profiles', 'home', 'paths', 1]), '7:3');
  assert.equal(key(['profiles', 'home', 'quoted key']), '9:1');
  assert.equal(key(['profiles', 'home', 'lit.key']), '10:1');
  assert.equal(key(['profiles', 'home', 'dotted']), '11:1');
  assert.equal(key(['profiles', 'home', 'dotted', 'deep']), '11:10');
  assert.equal(key(['profiles', 'home', 'when']), '12:1');
  assert.equal(key(['profiles', 'home', 'raw']), '17:1');
  assert.equal(p.get(['profiles', 'home', 'key']), undefined, 'text inside a multi-line string is not a key');
  assert.equal(p.get(['line']), undefined);
  assert.equal(key(['profiles', 'home', 'inline', 'a']), '19:12');
  assert.equal(key(['profiles', 'home', 'inline', 'b', 'c']), '19:21');
  assert.equal(key(['profiles', 'home', 'inline', 'd', 1]), '19:38');
  assert.equal(key(['profiles', 'work']), '21:16');
  assert.equal(key(['profiles', 'work', 'hooks', 'before']), '22:7');
  assert.equal(key(['profiles', 'work', 'hooks', 'before', 1]), '22:22');
  assert.equal(key(['servers', 0]), '24:3');
  assert.equal(key(['servers', 1, 'name']), '27:1');
  assert.equal(key(['servers', 1]), '26:3');
});

test('locate falls back to the closest written ancestor', () => {
  const p = scanPositions('[profiles.home]\npaths = ["/a"]\n');
  assert.deepEqual(p.locate(['profiles', 'home', 'repository']), { line: 1, column: 11 });
  assert.deepEqual(p.locate(['profiles', 'home', 'paths'], 'value'), { line: 2, column: 9 });
  assert.deepEqual(p.locate(['profiles', 'home', 'paths'], 'key'), { line: 2, column: 1 });
  assert.equal(p.locate(['other']), undefined);
  assert.equal(p.locate([]), undefined);
});

test('CRLF line ends and escapes in quoted keys', () => {
  const src = '[a]\r\n"x\\"y" = 1\r\n"\\u00e9" = 2\r\n';
  const parsed = parse(src) as { a: Record<string, number> };
  const p = scanPositions(src);
  for (const k of Object.keys(parsed.a)) assert.ok(p.get(['a', k]), k);
  assert.deepEqual(p.get(['a', 'é'])?.key, { line: 3, column: 1 });
});

/** Every key path of a parsed TOML value (tables and array elements). */
function paths(v: unknown, base: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...base, i], ...paths(x, [...base, i])]);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.entries(v).flatMap(([k, x]) => [[...base, k], ...paths(x, [...base, k])]);
  }
  return [];
}

const keyName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), fc.string({ minLength: 1, maxLength: 6 }));
const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }));
const tree = fc.letrec((tie) => ({
  table: fc.dictionary(keyName, fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: tie('table') }), { maxKeys: 5 }),
})).table;

test('property: every key path of a stringified document is found, on a line that names the key', () => {
  fc.assert(
    fc.property(tree, (doc) => {
      const src = stringify(doc);
      const parsed = parse(src);
      const p = scanPositions(src);
      const lines = src.split('\n');
      for (const path of paths(parsed)) {
        const l = p.get(path);
        assert.ok(l, `no position for ${JSON.stringify(path)} in\n${src}`);
        const last = path.at(-1);
        const rest = (lines[l.key.line - 1] ?? '').slice(l.key.column - 1);
        const where = `${JSON.stringify(path)} at ${l.key.line}:${l.key.column} in\n${src}`;
        if (typeof last === 'string') assert.ok(rest.startsWith(/^[A-Za-z0-9_-]+$/.test(last) ? last : '"'), where);
        else assert.ok(l.value && !/^[\s,\]]/.test(rest), where);
      }
    }),
    { numRuns: 200 },
  );
});
