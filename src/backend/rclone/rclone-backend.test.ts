/** The rclone backend: `rclone serve restic --stdio` on a local rclone remote (a temp rclone.conf). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PermanentError } from '../backend.ts';
import { backendContract } from '../contract/contract.ts';
import { parseRcloneLocation, rcloneBackend } from './rclone-backend.ts';

let dir = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pyb-rclone-'));
  await writeFile(join(dir, 'rclone.conf'), '[local]\ntype = local\n');
  env = { ...process.env, RCLONE_CONFIG: join(dir, 'rclone.conf') };
});

after(() => rm(dir, { recursive: true, force: true }));

backendContract('rclone', async () => ({
  backend: rcloneBackend(`rclone:local:${join(dir, randomBytes(6).toString('hex'))}`, { env }),
  dispose: async () => {},
}));

/** Pids of running `rclone serve restic` children of this process. */
function rclonePids(): number[] {
  return [...new Set(readChildren(process.pid))];
}

function readChildren(pid: number): number[] {
  try {
    const { readFileSync } = process.getBuiltinModule('node:fs');
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.filter((k) => {
      try {
        return readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('serve\0restic');
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

test('rclone: the child starts with the first call and is gone after close', async () => {
  const repo = join(dir, 'lifecycle');
  const b = rcloneBackend(`rclone:local:${repo}`, { env });
  assert.equal(rclonePids().length, 0, 'nothing runs before the first call');
  await b.create();
  assert.ok(existsSync(join(repo, 'keys')), 'rclone created the layout');
  assert.equal(rclonePids().length, 1);
  await b.close();
  assert.equal(rclonePids().length, 0, 'rclone stopped on close');
});

test('rclone: an unknown remote fails with rclone\'s own message, at once', async () => {
  const b = rcloneBackend('rclone:nosuchremote:repo', { env });
  try {
    const t = Date.now();
    const e = await b.stat({ type: 'config', name: '' }).then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof PermanentError, String(e));
    assert.match(e.message, /rclone serve restic for "nosuchremote:repo" stopped \(exit status \d+\): .*nosuchremote/);
    assert.ok(Date.now() - t < 10_000);
  } finally {
    await b.close();
  }
});

test('rclone: a missing rclone says to install it', async () => {
  const b = rcloneBackend('rclone:local:/tmp/x', { env: { ...env, PYBACKUP_RCLONE_PROGRAM: 'rclone-not-installed-here' } });
  try {
    await assert.rejects(b.create(), (e: unknown) => e instanceof PermanentError && /install rclone/.test(e.message));
  } finally {
    await b.close();
  }
});

test('rclone: append-only through PYBACKUP_RCLONE_ARGS refuses deletes', async () => {
  const b = rcloneBackend(`rclone:local:${join(dir, 'ao')}`, { env: { ...env, PYBACKUP_RCLONE_ARGS: 'serve restic --stdio --append-only' } });
  try {
    await b.create();
    const name = randomBytes(32).toString('hex');
    await b.save({ type: 'snapshot', name }, Buffer.from('s'));
    await assert.rejects(b.remove({ type: 'snapshot', name }), /append-only/);
  } finally {
    await b.close();
  }
});

test('rclone: locations are checked', () => {
  assert.equal(parseRcloneLocation('rclone:b2:bucket/repo'), 'b2:bucket/repo');
  assert.equal(parseRcloneLocation('rclone::local:/srv/r'), ':local:/srv/r');
  for (const bad of ['rclone:', 'rclone:  ', 'rclone:--config=/x', 'rclone:a\nb']) assert.throws(() => parseRcloneLocation(bad), /invalid rclone repository location/);
});
