import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonRunningError, InstanceLock, isAlive, processStartTicks, readInstance } from './instance-lock.ts';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-pid-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'run', 'daemon.pid');
}

/** a pid that is surely not running: a child that has exited */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('one instance: the second acquire fails while the first holds the file; release frees it', (t) => {
  const path = tmp(t);
  const a = InstanceLock.acquire(path, { config: '/c.toml' });
  const info = readInstance(path);
  assert.equal(info?.pid, process.pid);
  assert.equal(info?.alive, true);
  assert.equal(info?.config, '/c.toml');
  // a second process is refused while this one holds the file
  const lockModule = new URL('./instance-lock.ts', import.meta.url).href;
  const other = spawnSync(process.execPath, [
    '--no-warnings',
    '--input-type=module',
    '-e',
    `import { InstanceLock } from ${JSON.stringify(lockModule)};
     try { InstanceLock.acquire(${JSON.stringify(path)}); console.log('acquired'); } catch (e) { console.log(e.code, e.message); }`,
  ]);
  assert.match(other.stdout.toString(), new RegExp(`^LOCK_FAILED another pybackup daemon is running \\(pid ${process.pid}, since `));
  assert.ok(new DaemonRunningError(path, { pid: 1, started: 'x' }).message.includes('pid file'));
  a.release();
  assert.equal(existsSync(path), false);
  const b = InstanceLock.acquire(path);
  b.release();
});

test('a stale pid file (dead pid, reused pid, garbage) is replaced', (t) => {
  const path = tmp(t);
  InstanceLock.acquire(path).release();
  const dead = deadPid();
  writeFileSync(path, JSON.stringify({ pid: dead, started: '2020-01-01T00:00:00.000Z' }));
  assert.equal(readInstance(path)?.alive, false);
  const a = InstanceLock.acquire(path);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  a.release();
  // pid 1 exists, but it is not the process that wrote the file: its start time differs
  const one = processStartTicks(1);
  if (one !== undefined) {
    const reused = { pid: 1, started: '2020-01-01T00:00:00.000Z', startTicks: `${one}9` };
    assert.equal(isAlive(reused), false);
    writeFileSync(path, JSON.stringify(reused));
    InstanceLock.acquire(path).release();
  }
  writeFileSync(path, 'not json');
  assert.equal(readInstance(path), undefined);
  InstanceLock.acquire(path).release();
});

test('release leaves a file that another daemon has taken over', (t) => {
  const path = tmp(t);
  const a = InstanceLock.acquire(path);
  writeFileSync(path, JSON.stringify({ pid: 999_999_999, started: '2020-01-01T00:00:00.000Z' }));
  a.release();
  assert.equal(existsSync(path), true);
});
