import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen, redactLocation } from './web.ts';

test('--listen forms', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen(':0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListen('localhost:1'), { host: 'localhost', port: 1 });
  for (const bad of ['', 'x', '1.2.3.4:', '1.2.3.4:70000', '::1:80', 'a:b:1', '1.2.3.4:-1']) assert.throws(() => parseListen(bad), /--listen must be HOST:PORT/, bad);
});

test('credentials in a location are not shown', () => {
  assert.equal(redactLocation('rest:https://ann:secret@host:8000/repo'), 'rest:https://host:8000/repo');
  assert.equal(redactLocation('/srv/repo'), '/srv/repo');
  assert.equal(redactLocation('sftp://ann@host//srv'), 'sftp://host//srv');
});
