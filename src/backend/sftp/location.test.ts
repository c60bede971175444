import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../errors.ts';
import { type SftpLocation, formatSftpLocation, parseSftpLocation } from './location.ts';

test('scp-like form: user, host, absolute and relative paths', () => {
  assert.deepEqual(parseSftpLocation('sftp:alice@backup.example.org:/srv/restic'), { user: 'alice', host: 'backup.example.org', path: '/srv/restic' });
  assert.deepEqual(parseSftpLocation('sftp:nas:/volume1/repo/'), { host: 'nas', path: '/volume1/repo' });
  assert.deepEqual(parseSftpLocation('sftp:nas:repo'), { host: 'nas', path: 'repo' });
  assert.deepEqual(parseSftpLocation('sftp:bob@nas:backups//x/./y'), { user: 'bob', host: 'nas', path: 'backups/x/y' });
  assert.deepEqual(parseSftpLocation('sftp:u@x.com@host:/r'), { user: 'u@x.com', host: 'host', path: '/r' });
  assert.deepEqual(parseSftpLocation('sftp:u@[::1]:/r'), { user: 'u', host: '::1', path: '/r' });
  assert.deepEqual(parseSftpLocation('sftp:127.0.0.1:/a:b'), { host: '127.0.0.1', path: '/a:b' });
});

test('URL form: port, restic path rule (one slash relative, two absolute), percent-decoding, IPv6', () => {
  assert.deepEqual(parseSftpLocation('sftp://alice@host:2222//srv/repo'), { user: 'alice', host: 'host', port: 2222, path: '/srv/repo' });
  assert.deepEqual(parseSftpLocation('sftp://alice@host:2222/repo'), { user: 'alice', host: 'host', port: 2222, path: 'repo' });
  assert.deepEqual(parseSftpLocation('sftp://host/a%20b'), { host: 'host', path: 'a b' });
  assert.deepEqual(parseSftpLocation('sftp://me%40corp@[::1]:22//r'), { user: 'me@corp', host: '::1', port: 22, path: '/r' });
});

test('bad locations are clear UsageErrors', () => {
  const cases: [string, RegExp][] = [
    ['sftp:host', /expected ":" and a path/],
    ['sftp:host:', /no directory/],
    ['sftp::/x', /no host/],
    ['sftp:@host:/x', /empty user/],
    ['sftp:host:~/repo', /"~"/],
    ['sftp://host', /no path/],
    ['sftp://host/', /no directory/],
    ['sftp://u:secret@host//x', /passwords in the location are not supported/],
    ['sftp://host:0//x', /invalid port/],
    ['sftp://host:65536//x', /invalid port/],
    ['sftp://host:abc//x', /invalid port/],
    ['sftp://[::1//x', /not closed/],
    ['sftp:ho st:/x', /invalid host/],
    ['sftp:-oProxyCommand=x:/x', /invalid host/],
    ['sftp:host:..', /below the login directory/],
    ['sftp:host:../x', /below the login directory/],
    ['sftp:host:/x\n', /control characters/],
    ['sftp://host/%zz', /percent-encoding/],
  ];
  for (const [loc, re] of cases) {
    assert.throws(() => parseSftpLocation(loc), (e: unknown) => e instanceof UsageError && re.test(e.message), loc);
  }
});

test('the password of a URL never appears in the error', () => {
  assert.throws(
    () => parseSftpLocation('sftp://u:hunter2@host//x'),
    (e: Error) => e instanceof UsageError && /use a key/.test(e.message) && !e.message.includes('hunter2') && e.message.includes('u:***@host'),
  );
});

const userArb = fc.stringMatching(/^[a-z_][a-z0-9_.@-]{0,15}$/);
const hostArb = fc.oneof(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}$/), fc.constantFrom('::1', 'fe80::1', '2001:db8::42'));
const segArb = fc.stringMatching(/^[A-Za-z0-9 _%#?:@+=,-]{1,10}$/).filter((s) => s !== '.' && s !== '..' && !s.startsWith('~'));
const pathArb = fc.tuple(fc.boolean(), fc.array(segArb, { minLength: 1, maxLength: 4 })).map(([abs, segs]) => `${abs ? '/' : ''}${segs.join('/')}`);
const locArb: fc.Arbitrary<SftpLocation> = fc.record(
  { user: userArb, host: hostArb, port: fc.integer({ min: 1, max: 65535 }), path: pathArb },
  { requiredKeys: ['host', 'path'] },
);

test('property: format then parse gives the same location', () => {
  fc.assert(
    fc.property(locArb, (l) => {
      assert.deepEqual(parseSftpLocation(formatSftpLocation(l)), { ...l });
    }),
    { numRuns: 500 },
  );
});

test('property: any string either parses or throws a UsageError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      try {
        const l = parseSftpLocation(`sftp:${s}`);
        assert.ok(l.host.length > 0 && l.path.length > 0);
      } catch (e) {
        assert.ok(e instanceof UsageError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
