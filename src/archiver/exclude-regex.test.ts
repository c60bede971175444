import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../errors.ts';
import { NO_MATCH, compilePatternList } from './exclude-patterns.ts';

function list(patterns: string[], ci = false) {
  const l = compilePatternList(patterns.map((pattern) => ({ pattern, origin: '--exclude' })), ci);
  assert.ok(l);
  return l;
}

/** Walks /a/b/c component by component, as the archiver does, and returns the final decision. */
function walked(patterns: string[], path: string, ci = false): boolean {
  const l = list(patterns, ci);
  const parts = path.split('/').filter(Boolean);
  let above = l.fullIndex(`/${parts[0]}`);
  for (let k = 1; k < parts.length; k++) {
    const p = `/${parts.slice(0, k + 1).join('/')}`;
    above = l.endIndex(above, Buffer.from(parts[k] as string), () => p);
  }
  return above !== NO_MATCH && !l.isNegated(above);
}

test('re: patterns search the absolute path', () => {
  assert.equal(list(['re:\\.(tmp|bak)$']).matches('/home/a/x.tmp'), true);
  assert.equal(list(['re:\\.(tmp|bak)$']).matches('/home/a/x.tmpl'), false);
  assert.equal(list(['re:^/home/[^/]+/\\.cache$']).matches('/home/ann/.cache'), true);
  assert.equal(list(['re:^/home/[^/]+/\\.cache$']).matches('/home/ann/.cache/x'), true, 'below a matching directory');
  assert.equal(list(['re:^/home/[^/]+/\\.cache$']).matches('/srv/home/ann/.cache'), false);
  assert.equal(list(['re:cache']).matches('/'), false);
});

test('re: patterns through the walker: subtrees, negation, order, case', () => {
  assert.equal(walked(['re:/build$'], '/src/build/out/x.o'), true);
  assert.equal(walked(['re:/build$', '!re:/build/keep$'], '/src/build/keep/file'), false, 'a later negation re-includes');
  assert.equal(walked(['re:/build$', '!re:/build/keep$'], '/src/build/other'), true);
  assert.equal(walked(['*.log', '!re:important'], '/var/important.log'), false);
  assert.equal(walked(['re:\\.JPG$'], '/p/a.jpg'), false, 'case-sensitive by default');
  assert.equal(walked(['re:\\.JPG$'], '/p/a.jpg', true), true, '--iexclude: case-insensitive');
  assert.equal(walked(['re:\\D\\.JPG$'], '/p/a.jpg', true), true, 'the expression is not lower-cased (\\D stays \\D)');
});

test('bad re: patterns are usage errors naming the pattern', () => {
  assert.throws(() => list(['re:(unclosed']), (e: Error) => e instanceof UsageError && /--exclude: invalid pattern "re:\(unclosed"/.test(e.message));
  assert.throws(() => list(['re:']), /empty regular expression/);
});
