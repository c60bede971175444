import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../errors.ts';
import { isMounted, refuseRepositoryOverlap } from './mount.ts';
import { isLoopback, parseListen } from './webdav-session.ts';

test('parseListen takes HOST:PORT, [V6]:PORT and PORT; refuses the rest', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  for (const bad of ['', 'host', '1.2.3.4:99999', '[zz]:1', '1.2.3.4:-1', 'a:b:c']) assert.throws(() => parseListen(bad), UsageError, bad);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.5.6.7'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('192.0.2.1'));
});

test('a mount point overlapping a local repository is refused; remote ones are not checked', () => {
  assert.throws(() => refuseRepositoryOverlap('/srv/repo', '/srv/repo/mnt'), /overlap/);
  assert.throws(() => refuseRepositoryOverlap('local:/srv/repo', '/srv'), /overlap/);
  assert.throws(() => refuseRepositoryOverlap('/srv/repo', '/srv/repo'), /overlap/);
  refuseRepositoryOverlap('/srv/repo', '/srv/repository-mnt');
  refuseRepositoryOverlap('sftp:host:/srv/repo', '/srv/repo/mnt');
  refuseRepositoryOverlap('', '/mnt');
});

test('isMounted reads /proc/self/mountinfo', () => {
  assert.equal(isMounted('/'), true);
  assert.equal(isMounted('/definitely/not/a/mount/point'), false);
});
