import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend, Handle } from './backend.ts';
import { withConcurrency } from './concurrency.ts';
import { withFaults } from './faults.ts';
import { LocalBackend } from './local/local-backend.ts';
import { MemBackend } from './mem/mem-backend.ts';
import { withRateLimit } from './rate-limit.ts';
import { withRetry } from './retry.ts';

const H: Handle = { type: 'pack', name: 'ab'.repeat(32) };

test('a local backend names the file that holds a handle; readers may read it directly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-localpath-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const b = new LocalBackend(join(dir, 'repo'), { sync: false });
  await b.create();
  await b.save(H, Buffer.from('pack bytes'));
  const path = b.localPath(H);
  assert.equal(readFileSync(path, 'utf8'), 'pack bytes');
  // retry and concurrency pass it through: reads there need no retry or connection slot
  for (const w of [withRetry()(b), withConcurrency(2)(b)]) assert.equal(w.localPath?.(H), path);
});

test('wrappers that must see every read hide it: rate limits and injected faults; remote backends have none', () => {
  const b = new LocalBackend('/nonexistent/repo');
  assert.equal(withRateLimit({ downloadBytesPerSec: 1000 })(b).localPath, undefined);
  assert.equal(withFaults({ rate: 0.5 })(b).localPath, undefined);
  assert.equal(withRetry()(withFaults({ rate: 0.5 })(b)).localPath, undefined);
  assert.equal((new MemBackend() as Backend).localPath, undefined);
});
