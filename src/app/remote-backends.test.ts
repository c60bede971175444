import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { REMOTE_CONNECTIONS, remoteBackendFor, timeoutUnderLimits } from './remote-backends.ts';
import { REMOTE_OPTION_SPECS } from './remote-options.ts';

test('remote locations: rest: and rclone: only', () => {
  assert.equal(remoteBackendFor('/srv/repo', {}), undefined);
  assert.equal(remoteBackendFor('sftp:host:/x', {}), undefined);
  assert.match(remoteBackendFor('rest:http://u:pw@127.0.0.1:8000/r', {})?.location ?? '', /^rest:http:\/\/u@127\.0\.0\.1:8000\/r\/$/);
  assert.equal(remoteBackendFor('rclone:b2:bucket/r', {})?.location, 'rclone:b2:bucket/r');
  assert.throws(() => remoteBackendFor('rest:ftp://x/', {}), /must start with http/);
});

test('-o rest.connections bounds the requests in flight', async () => {
  let now = 0;
  let peak = 0;
  const server = createServer((_q, res) => {
    now++;
    peak = Math.max(peak, now);
    setTimeout(() => {
      now--;
      res.writeHead(200, { 'content-length': '3' }).end();
    }, 30);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    for (const [n, want] of [[2, 2], [undefined, REMOTE_CONNECTIONS]] as const) {
      peak = 0;
      const opts = new Map(n === undefined ? [] : [['rest.connections', String(n)]]);
      const b = remoteBackendFor(`rest:http://127.0.0.1:${port}/`, {}, opts);
      assert.ok(b);
      const name = 'a'.repeat(64);
      await Promise.all(Array.from({ length: 12 }, () => b.stat({ type: 'pack', name })));
      await b.close();
      assert.equal(peak, want);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('-o values are checked', () => {
  const check = (k: string, v: string): string | undefined => REMOTE_OPTION_SPECS[k]?.check(v);
  assert.equal(check('rest.connections', '8'), undefined);
  for (const bad of ['0', '65', 'x', '']) assert.ok(check('rest.connections', bad), bad);
  assert.ok(check('rclone.args', 'serve restic'), '--stdio is required');
  assert.equal(check('rclone.args', 'serve restic --stdio --append-only'), undefined);
});

test('under a rate limit the per-call timeout covers every connection moving a 1 GiB pack at the limit', () => {
  assert.equal(timeoutUnderLimits(900_000, {}), 900_000);
  assert.equal(timeoutUnderLimits(900_000, undefined), 900_000);
  const t = timeoutUnderLimits(900_000, { uploadBytesPerSec: 10 << 20, downloadBytesPerSec: 100 << 20 });
  assert.equal(t, 900_000 + Math.ceil(((REMOTE_CONNECTIONS * (1 << 30)) / (10 << 20)) * 1000));
});
