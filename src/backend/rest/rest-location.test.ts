import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseRestLocation, redactLocation } from './rest-location.ts';

test('rest locations: the usual forms', () => {
  const a = parseRestLocation('rest:http://127.0.0.1:8000/', {});
  assert.equal(a.url.href, 'http://127.0.0.1:8000/');
  assert.equal(a.display, 'rest:http://127.0.0.1:8000/');
  assert.equal(a.authorization, undefined);
  const b = parseRestLocation('rest:https://user:p%40ss%2Fw@backup.example.org/user/repo', {});
  assert.equal(b.url.href, 'https://backup.example.org/user/repo/');
  assert.equal(b.display, 'rest:https://user@backup.example.org/user/repo/');
  assert.equal(b.authorization, `Basic ${Buffer.from('user:p@ss/w').toString('base64')}`);
  const c = parseRestLocation('rest:http://[::1]:8000/r', {});
  assert.equal(c.url.hostname, '[::1]');
});

test('rest locations: malformed ones are usage errors that explain', () => {
  for (const [loc, why] of [
    ['rest:', /must start with http/],
    ['rest:ftp://host/', /must start with http/],
    ['rest:http://', /not a valid URL|no host/],
    ['rest:http://host/repo?x=1', /query/],
    ['rest:http://host:99999/', /not a valid URL/],
    ['rest:http://ho st/', /spaces/],
    ['rest:http://u:%zz@host/', /invalid %-escape/],
  ] as const) {
    assert.throws(() => parseRestLocation(loc, {}), (e: unknown) => (e as { code?: string }).code === 'USAGE' && why.test((e as Error).message), loc);
  }
  assert.throws(() => parseRestLocation('rest:http://host/', { PYBACKUP_REST_PASSWORD: 'x' }), /without a user name/);
});

const secret = fc.string({ minLength: 1, maxLength: 24 }).map((s) => `SECRET${s}`);
const user = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/);

test('property: any user and password round-trip through the URL and never show in the location', () => {
  fc.assert(
    fc.property(user, secret, fc.stringMatching(/^[a-z0-9/]{0,20}$/), (u, p, path) => {
      const loc = parseRestLocation(`rest:http://${encodeURIComponent(u)}:${encodeURIComponent(p)}@127.0.0.1:8000/${path}`, {});
      assert.equal(Buffer.from((loc.authorization ?? '').slice('Basic '.length), 'base64').toString('utf8'), `${u}:${p}`);
      assert.ok(!loc.display.includes('SECRET'), loc.display);
      assert.ok(!loc.url.href.includes('SECRET'), loc.url.href);
      assert.ok(loc.url.pathname.endsWith('/'));
    }),
  );
});

test('property: an error about a malformed location never repeats its password', () => {
  fc.assert(
    fc.property(user, secret, fc.constantFrom('', '?q', ' x', ':99999', '#f', '/%zz'), (u, p, junk) => {
      const loc = `rest:http://${u}:${p}@host${junk}/`;
      assert.ok(!redactLocation(loc).includes('SECRET'), redactLocation(loc));
      try {
        parseRestLocation(loc, {});
      } catch (e) {
        assert.ok(!(e as Error).message.includes('SECRET'), (e as Error).message);
      }
    }),
  );
});
