import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsageError } from '../errors.ts';
import { compileGlobComponent, goClean } from './exclude-glob.ts';
import { NO_MATCH, compilePatternList } from './exclude-patterns.ts';

function list(patterns: string[], ci = false) {
  return compilePatternList(
    patterns.map((pattern) => ({ pattern, origin: '--exclude' })),
    ci,
  );
}

function match(pattern: string, path: string): boolean {
  const l = list([pattern]);
  assert.ok(l);
  return l.matches(path);
}

// restic internal/filter matchTests (the absolute-path cases).
const RESTIC_MATCH: [string, string, boolean][] = [
  ['*.go', '/foo/bar/test.go', true],
  ['*.c', '/foo/bar/test.go', false],
  ['*', '/foo/bar/test.go', true],
  ['**', '/foo/bar/test.go', true],
  ['foo*', '/foo/bar/test.go', true],
  ['bar*', '/foo/bar/test.go', true],
  ['/bar*', '/foo/bar/test.go', false],
  ['bar/*', '/foo/bar/test.go', true],
  ['baz/*', '/foo/bar/test.go', false],
  ['bar/test.go', '/foo/bar/test.go', true],
  ['bar/*.go', '/foo/bar/test.go', true],
  ['ba*/*.go', '/foo/bar/test.go', true],
  ['bb*/*.go', '/foo/bar/test.go', false],
  ['test.*', '/foo/bar/test.go', true],
  ['tesT.*', '/foo/bar/test.go', false],
  ['bar/*', '/foo/bar/baz', true],
  ['bar', '/foo/bar', true],
  ['/foo/bar', '/foo/bar', true],
  ['/foo/bar/', '/foo/bar', true],
  ['/foo/bar', '/foo/baz', false],
  ['/foo///bar', '/foo/bar', true],
  ['/foo/../bar', '/foo/bar', false],
  ['/foo/../bar', '/bar', true],
  ['/foo', '/foo/baz', true],
  ['/foo/', '/foo/baz', true],
  ['/foo/*', '/foo', false],
  ['/foo/*', '/foo/baz', true],
  ['bar', '/foo/bar/baz', true],
  ['bar', '/foo/bar/test.go', true],
  ['/foo/*test.*', '/foo/bar/test.go', false],
  ['/foo/*/test.*', '/foo/bar/test.go', true],
  ['/foo/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/bar/test.*', '/foo/bar/baz/test.go', false],
  ['/*/*/baz/test.*', '/foo/bar/baz/test.go', true],
  ['/*/foo/bar/test.*', '/foo/bar/baz/test.go', false],
  ['sdk', '/foo/bar/sdk', true],
  ['sdk', '/foo/bar/sdk/test/sdk_foo.go', true],
  ['sdk/*/cpp/*/*vars*.html', '/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html', false],
  ['foo/**/bar/*.go', '/home/user/foo/work/special/project/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/bar/test.go', true],
  ['foo/**/bar/*.go', '/x/foo/bar/test.go', true],
  ['foo/**/bar/*.go', '/foo/bar/baz/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/test.c', false],
  ['foo/**/bar/*.go', '/bar/foo/main.go', false],
  ['foo/**/bar/*.go', '/foo/bar/main.go', true],
  ['foo/**/bar/*.go', '/bar/main.go', false],
  ['foo/**/bar', '/home/user/foo/x/y/bar', true],
  ['foo/**/bar', '/home/user/foo/x/y/bar/main.go', true],
  ['foo/**/bar/**/x', '/home/user/foo/bar/x', true],
  ['foo/**/bar/**/x', '/home/user/foo/blaaa/blaz/bar/shared/work/x', true],
  ['user/**/important*', '/home/user/work/x/y/hidden/x', false],
  ['user/**/hidden*/**/c', '/home/user/work/x/y/hidden/z/a/b/c', true],
  ['/home/[uU]ser/?.go', '/home/user/F.go', true],
  // more
  ['/foo/**', '/foo', true],
  ['/foo/**', '/foobar', false],
  ['/**/x', '/a/b/x', true],
  ['oo', '/foo/bar', false],
  ['/', '/anything/at/all', true],
];

test('restic filter.Match table (absolute paths)', () => {
  for (const [p, s, want] of RESTIC_MATCH) assert.equal(match(p, s), want, `Match(${JSON.stringify(p)}, ${JSON.stringify(s)})`);
});

// restic filterListTests
test('restic filter.List table', () => {
  const cases: [string[], string, boolean][] = [
    [['*.go'], '/foo/bar/test.go', true],
    [['*.c'], '/foo/bar/test.go', false],
    [['*.go', '*.c'], '/foo/bar/test.go', true],
    [['*'], '/foo/bar/test.go', true],
    [['x'], '/foo/bar/test.go', false],
    [['?'], '/foo/bar/test.go', false],
    [['?', 'x'], '/foo/bar/x', true],
    [['/*/*/bar/test.*'], '/foo/bar/test.go', false],
    [['/*/*/bar/test.*', '*.go'], '/foo/bar/test.go', true],
    [['', '*.c'], '/foo/bar/test.go', false],
  ];
  for (const [ps, path, want] of cases) assert.equal(list(ps)?.matches(path) ?? false, want, `${JSON.stringify(ps)} ${path}`);
  assert.equal(list(['']), undefined);
});

test('negated patterns: the last matching pattern decides', () => {
  const l = list(['/home/ann/**/*', '!/home/ann/Documents', '*.tmp']);
  assert.ok(l);
  assert.equal(l.matches('/home/ann/Music'), true);
  assert.equal(l.matches('/home/ann/Documents'), false);
  assert.equal(l.matches('/home/ann/Documents/a/b.txt'), false, 'a negation covers everything below too');
  assert.equal(l.matches('/home/ann/Documents/x.tmp'), true, 'a later plain pattern excludes again');
  assert.equal(l.matches('/home/bob/x'), false);
  const onlyNeg = list(['!foo']);
  assert.equal(onlyNeg?.matches('/foo'), false);
});

test('case-insensitive list lowercases patterns and paths', () => {
  const l = list(['*.JPG', '/Data/Cache'], true);
  assert.ok(l);
  assert.equal(l.matches('/x/photo.jpg'), true);
  assert.equal(l.matches('/x/PHOTO.Jpg'), true);
  assert.equal(l.matches('/DATA/cache/x'), true);
  assert.equal(list(['*.JPG'])?.matches('/x/photo.jpg'), false);
});

test('malformed patterns are UsageErrors naming the pattern', () => {
  for (const p of ['foo[', 'a/[]x]/b', 'x\\', '[a-]', '!bad[', '/x/**/[^']) {
    assert.throws(
      () => list([p]),
      (e: unknown) => e instanceof UsageError && e.message.includes(JSON.stringify(p)) && e.message.startsWith('--exclude:'),
      p,
    );
  }
});

test('non-UTF-8 names only match wildcards', () => {
  const name = Buffer.concat([Buffer.from('/d/'), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]).toString('utf8');
  assert.equal(list(['*.bin'])?.matches(name), true);
  assert.equal(list(['/d/??.bin'])?.matches(name), true);
  assert.equal(list(['/d/x.bin'])?.matches(name), false);
});

/**
 * restic's filter.match/list, ported literally (the reference the compiled lists must agree with), except for the
 * `**` expansion bound: restic tries `i <= len(strs)-len(parts)+1` extra components, which counts the other `**` parts
 * as components and so misses e.g. `/**\/**\/a` on `/a` (every `**` empty, path shorter than the pattern). We take
 * `**` to mean "zero or more components" there too.
 */
function refGoMatch(p: string, s: string): boolean {
  const c = compileGlobComponent(p);
  if ('error' in c) throw new Error('bad');
  return new RegExp(`^${c.source}$`, 'u').test(s);
}

/** restic splitPath: components, "/" as the first one for absolute paths. */
function refSplit(p: string): string[] {
  const parts = p.split('/');
  if (parts[0] === '') parts[0] = '/';
  return parts;
}

/** restic match(): parts use "" for "**" and "/" for the root marker. */
function refMatch(parts: string[], strs: string[]): boolean {
  const pos = parts.indexOf('');
  if (pos >= 0) {
    for (let i = 0; i <= strs.length; i++) {
      const np = [...parts.slice(0, pos), ...Array<string>(i).fill('*'), ...parts.slice(pos + 1)];
      if (refMatch(np, strs)) return true;
    }
    return false;
  }
  if (parts.length === 0) return strs.length === 0;
  if (parts.length > strs.length) return false;
  let minOffset = 0;
  let maxOffset = strs.length - parts.length;
  if (parts[0] === '/') maxOffset = 0;
  else if (strs[0] === '/') minOffset = 1;
  outer: for (let off = maxOffset; off >= minOffset; off--) {
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i] as string;
      const s = strs[off + i] as string;
      if (!(p === '/' ? s === '/' : refGoMatch(p, s))) continue outer;
    }
    return true;
  }
  return false;
}

/** restic list(): the last matching pattern decides. */
function resticList(patterns: string[], path: string): boolean {
  const strs = refSplit(path);
  let matched = false;
  for (const raw of patterns) {
    const neg = raw.startsWith('!');
    const parts = refSplit(goClean(neg ? raw.slice(1) : raw)).map((p) => (p === '**' ? '' : p));
    const m = refMatch(parts, strs);
    matched = neg ? matched && !m : matched || m;
  }
  return matched;
}

test('property: compiled lists (whole path and incremental per component) agree with restic', () => {
  const comp = fc.constantFrom('a', 'b', 'ab', 'a.x', 'A', '*', '?', '**', '[ab]', '*.x', '*.X', 'a*', '[^a]*');
  const pattern = fc
    .tuple(fc.boolean(), fc.boolean(), fc.array(comp, { minLength: 1, maxLength: 4 }))
    .map(([neg, anchored, parts]) => `${neg ? '!' : ''}${anchored ? '/' : ''}${parts.join('/')}`);
  const path = fc.array(fc.constantFrom('a', 'b', 'ab', 'a.x', 'b.x', 'c', 'A', 'B.X'), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(pattern, { minLength: 1, maxLength: 4 }), path, fc.boolean(), (patterns, comps, ci) => {
      const l = list(patterns, ci);
      assert.ok(l);
      // incremental, as the walker does it: full index for the first component, then one endIndex per level
      let idx = l.fullIndex(`/${comps[0]}`);
      for (let d = 1; d <= comps.length; d++) {
        const p = `/${comps.slice(0, d).join('/')}`;
        const want = ci ? resticList(patterns.map((x) => x.toLowerCase()), p.toLowerCase()) : resticList(patterns, p);
        assert.equal(l.matches(p), want, `whole: ${JSON.stringify(patterns)} ${p}`);
        if (d > 1) idx = l.endIndex(idx, Buffer.from(comps[d - 1] as string), () => p);
        assert.equal(idx !== NO_MATCH && !l.isNegated(idx), want, `incremental: ${JSON.stringify(patterns)} ${p}`);
      }
    }),
    { numRuns: Number(process.env.PYB_PROP_RUNS ?? 3000) },
  );
});
