import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlobComponent, expandEnv, goClean, hasGlobMeta } from './exclude-glob.ts';

/** Go's filepath.Match, for the table below ("bad" = ErrBadPattern). */
function goMatch(pattern: string, name: string): boolean | 'bad' {
  const c = compileGlobComponent(pattern);
  if ('error' in c) return 'bad';
  return new RegExp(`^${c.source}$`, 'u').test(name);
}

// From Go's path/filepath match_test.go.
const MATCH_TESTS: [string, string, boolean | 'bad'][] = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'],
  ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'],
  ['[-x]', 'x', 'bad'],
  ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'],
  ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'],
  ['a[', 'a', 'bad'],
  ['a[', 'ab', 'bad'],
  ['a/b[', 'x', 'bad'],
  ['*x', 'xxx', true],
  // not in Go's table, but Go semantics
  ['*', '.hidden', true],
  ['{a,b}', 'a', false],
  ['{a,b}', '{a,b}', true],
  ['[!a]', '!', true],
  ['[!a]', 'b', false],
  ['[z-a]', 'm', false],
  ['[^z-a]', 'm', true],
  ['a+(b)', 'a+(b)', true],
  ['$x.^', '$x.^', true],
];

test('compileGlobComponent matches Go filepath.Match', () => {
  for (const [p, s, want] of MATCH_TESTS) assert.equal(goMatch(p, s), want, `Match(${JSON.stringify(p)}, ${JSON.stringify(s)})`);
});

test('goClean follows Go filepath.Clean', () => {
  const cases: [string, string][] = [
    ['', '.'],
    ['/', '/'],
    ['//', '/'],
    ['a/', 'a'],
    ['/foo///bar/', '/foo/bar'],
    ['./a/./b', 'a/b'],
    ['/foo/../bar', '/bar'],
    ['/../x', '/x'],
    ['../../x', '../../x'],
    ['a/../..', '..'],
    ['a/..', '.'],
  ];
  for (const [i, o] of cases) assert.equal(goClean(i), o, i);
});

test('hasGlobMeta', () => {
  assert.equal(hasGlobMeta('/a/b.txt'), false);
  for (const s of ['*', 'a?', '[x]', 'a\\b']) assert.equal(hasGlobMeta(s), true, s);
});

test('expandEnv follows Go os.Expand with $$ as a literal dollar', () => {
  const env = { HOME: '/home/ann', USER: 'ann', X_1: 'x' };
  const cases: [string, string][] = [
    ['$HOME/.cache', '/home/ann/.cache'],
    ['${HOME}/x', '/home/ann/x'],
    ['/home/${USER}suffix', '/home/annsuffix'],
    ['$X_1-y', 'x-y'],
    ['$UNSET/x', '/x'],
    ['$$RECYCLE.BIN', '$RECYCLE.BIN'],
    ['a$', 'a$'],
    ['a$.b', 'a$.b'],
    ['${}x', 'x'],
    ['${HOME', 'HOME'],
    ['no vars', 'no vars'],
  ];
  for (const [i, o] of cases) assert.equal(expandEnv(i, env), o, i);
});
