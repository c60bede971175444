/**
 * 7. Locks: a live exclusive lock blocks every locking command with exit 11; a lock left by a dead process (written
 * with a PID that does not exist, or left by a backup killed with SIGKILL) blocks nothing; shared locks coexist.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestContext, test } from 'node:test';
import { acquireLock } from '../../src/repository/locker.ts';
import { Sandbox, assertExit, assertNoStackTrace, assertSameTree, collect, describe, writeRandomFile } from './helpers.ts';

/** A PID that belonged to a process which has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$']);
  const pid = Number(r.stdout.toString().trim());
  assert.ok(pid > 0);
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the PID is free');
  return pid;
}

function lockFiles(sb: Sandbox): string[] {
  return readdirSync(join(sb.repo, 'locks')).filter((n) => !n.startsWith('.'));
}

async function withinSeconds(cond: () => boolean, s: number): Promise<boolean> {
  for (let i = 0; i < s * 20; i++) {
    if (cond()) return true;
    await sleep(50);
  }
  return cond();
}

test('an exclusive lock held by a live process: exit 11 naming the holder', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  await sb.backup([sb.src]);

  const repo = await sb.open();
  const lock = await acquireLock(repo, true, { username: 'e2e-test' });
  try {
    for (const args of [['backup', sb.src], ['restore', 'latest', '--target', sb.path('target')], ['snapshots'], ['stats']]) {
      const r = await sb.cli(args);
      assertExit(r, 11, `${args[0]} under an exclusive lock`);
      assertNoStackTrace(r);
      assert.match(r.stderr, new RegExp(`PID ${process.pid}\\b`), `the message names the holder: ${describe(r)}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
    assert.equal(lockFiles(sb).length, 1, 'failed lockers removed their own lock files');
    // --no-lock for read-only commands, and cat, still work
    assertExit(await sb.cli(['--no-lock', 'snapshots']), 0, 'snapshots --no-lock');
    assertExit(await sb.cli(['cat', 'config']), 0, 'cat config');
  } finally {
    await lock.release();
    await repo.close();
  }
  assertExit(await sb.cli(['snapshots']), 0, 'snapshots after release');
  assert.equal(lockFiles(sb).length, 0, 'no lock left behind');
});

test('a lock of a dead process does not block, and is cleaned up', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  const repo = await sb.open();
  try {
    const stale = { time: new Date().toISOString(), exclusive: true, hostname: hostname(), username: 'ghost', pid: deadPid() };
    await repo.saveFile('lock', Buffer.from(JSON.stringify(stale)));
  } finally {
    await repo.close();
  }
  assert.equal(lockFiles(sb).length, 1);
  const b = await sb.cli(['backup', sb.src]);
  assertExit(b, 0, 'backup despite a stale exclusive lock');
  assert.equal(lockFiles(sb).length, 0, 'the stale lock was removed');
  assertExit(await sb.cli(['snapshots']), 0, 'snapshots');
});

test('a backup killed with SIGKILL leaves a lock that blocks nothing', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeFileSync(join(sb.src, 'f'), 'x');
  // `backup --stdin` with stdin held open keeps the process (and its lock) alive deterministically
  const child = sb.spawn(['backup', '--stdin', '--stdin-filename', 'piped']);
  const done = collect(child, { timeoutMs: 60_000, keepStdinOpen: true });
  child.stdin?.write('some data that never ends');
  try {
    assert.ok(await withinSeconds(() => lockFiles(sb).length === 1, 30), 'the running backup holds a lock');
    // a live shared lock blocks an exclusive locker
    const repo = await sb.open();
    try {
      await assert.rejects(acquireLock(repo, true), (e: Error & { code?: string }) => e.code === 'LOCK_FAILED' && e.message.includes(`PID ${child.pid}`));
    } finally {
      await repo.close();
    }
  } finally {
    child.kill('SIGKILL');
  }
  const r = await done;
  assert.equal(r.signal, 'SIGKILL', describe(r));
  assert.equal(lockFiles(sb).length, 1, 'the killed backup left its lock');

  // the dead process's lock does not block an exclusive locker, nor the CLI
  const repo = await sb.open();
  try {
    const lock = await acquireLock(repo, true);
    await lock.release();
  } finally {
    await repo.close();
  }
  assertExit(await sb.cli(['backup', sb.src]), 0, 'backup after the kill');
  assertExit(await sb.cli(['snapshots']), 0, 'snapshots after the kill');
  assert.equal(lockFiles(sb).length, 0);
});

/** Two backups of different trees into one repository at the same time; `sameCatalog`: sharing the local catalog. */
async function concurrentBackups(t: TestContext, sameCatalog: boolean): Promise<void> {
  const sb = await Sandbox.create(t);
  const a = join(sb.src, 'a');
  const b = join(sb.src, 'b');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(a, `file-${i}`), `a ${i}\n`.repeat(i + 1));
    writeFileSync(join(b, `file-${i}`), `b ${i}\n`.repeat(i + 1));
  }
  writeRandomFile(join(a, 'big'), 8 << 20);
  writeRandomFile(join(b, 'big'), 8 << 20);
  const other = sameCatalog ? {} : { env: { PYBACKUP_CACHE_DIR: sb.path('cache-b') } };
  const [ra, rb] = await Promise.all([sb.cli(['backup', a]), sb.cli(['backup', b], other)]);
  assertExit(ra, 0, 'backup a');
  assertExit(rb, 0, 'backup b');
  assertNoStackTrace(ra);
  assertNoStackTrace(rb);
  for (const dir of [a, b]) {
    const target = sb.path(`restore-${dir.slice(-1)}`);
    assertExit(await sb.cli(['restore', 'latest', '--path', dir, '--target', target, '--verify']), 0, `restore ${dir}`);
    assertSameTree(dir, join(target, dir));
  }
  assert.equal(lockFiles(sb).length, 0);
}

test('two backups at the same time (separate catalogs) both succeed and both restore', async (t) => {
  await concurrentBackups(t, false);
});

test('two backups at the same time sharing the local catalog both succeed', async (t) => {
  await concurrentBackups(t, true);
}
);
