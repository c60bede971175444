import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingLog } from './rotating-log.ts';

test('the log rotates by size and keeps a fixed number of files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let now = Date.UTC(2025, 0, 2, 3, 4, 5);
  const log = new RotatingLog({ dir, maxBytes: 200, files: 3, now: () => now });
  for (let i = 0; i < 40; i++) {
    log.write('info', `entry ${String(i).padStart(2, '0')} ${'x'.repeat(20)}`);
    now += 1000;
  }
  assert.deepEqual(readdirSync(dir).sort(), ['daemon.log', 'daemon.log.1', 'daemon.log.2']);
  for (const f of readdirSync(dir)) assert.ok(statSync(join(dir, f)).size <= 200, `${f} within the size`);
  const current = readFileSync(join(dir, 'daemon.log'), 'utf8').trimEnd().split('\n');
  assert.match(current.at(-1) as string, /^2025-01-02T03:04:44\.000Z info entry 39 x{20}$/);
  const older = readFileSync(join(dir, 'daemon.log.1'), 'utf8').trimEnd().split('\n');
  // the generations are consecutive: .1 ends right before the current file starts
  const n = (l: string): number => Number(/entry (\d+)/.exec(l)?.[1]);
  assert.equal(n(older.at(-1) as string) + 1, n(current[0] as string));
  assert.equal(statSync(join(dir, 'daemon.log')).mode & 0o777, 0o600);
});

test('a reopened log continues the file and its size; entries stay one line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  new RotatingLog({ dir, maxBytes: 100, files: 2 }).write('warn', 'first\nforged 2025 error line');
  const again = new RotatingLog({ dir, maxBytes: 100, files: 2 });
  again.write('error', 'second');
  assert.equal(readFileSync(join(dir, 'daemon.log'), 'utf8').split('\n').length, 3);
  assert.match(readFileSync(join(dir, 'daemon.log'), 'utf8'), /warn first \| forged/);
  again.write('info', 'y'.repeat(80));
  assert.deepEqual(readdirSync(dir).sort(), ['daemon.log', 'daemon.log.1']);
  assert.match(readFileSync(join(dir, 'daemon.log.1'), 'utf8'), /second/);
});
