import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonState } from '../../scheduler/daemon-state.ts';
import { parseSchedule } from '../../scheduler/schedule.ts';
import { buildStatus, type StatusProfile } from '../../scheduler/status.ts';
import { statusJson, statusText } from './status.ts';

process.env.TZ = 'UTC';

const profiles: StatusProfile[] = [
  { key: 'home@/c.toml', name: 'home', schedule: parseSchedule('daily 02:00'), repository: '/srv/repo' },
  { key: 'lap@/c.toml', name: 'lap', schedule: parseSchedule('every 6h'), repository: '/srv/lap', defer: { onBattery: true, maxDelayMs: 7_200_000 } },
  { key: 'mail@/c.toml', name: 'mail', schedule: parseSchedule('hourly :30'), repository: 'sftp:nas:/mail' },
  { key: 'big@/c.toml', name: 'big', schedule: parseSchedule('weekly sun 03:00'), repository: '/srv/big' },
  { key: 'adhoc@/c.toml', name: 'adhoc', repository: '/srv/adhoc' },
];

const state: DaemonState = {
  version: 1,
  profiles: {
    'home@/c.toml': {
      since: '2025-02-01T00:00:00.000Z',
      last: { start: '2025-03-05T02:00:00.000Z', end: '2025-03-05T02:03:05.000Z', result: 'ok', exitCode: 0, bytesAdded: 12_900_000, snapshotId: 'ab'.repeat(32), trigger: 'catch-up' },
    },
    'lap@/c.toml': { since: '2025-02-01T00:00:00.000Z', last: { start: '2025-03-05T00:00:00.000Z', end: '2025-03-05T00:00:40.000Z', result: 'ok', exitCode: 0, bytesAdded: 0, trigger: 'schedule' }, deferred: { since: '2025-03-05T06:00:00.000Z', reason: 'on battery' } },
    'mail@/c.toml': {
      since: '2025-02-01T00:00:00.000Z',
      failures: 2,
      last: { start: '2025-03-05T05:30:00.000Z', end: '2025-03-05T05:30:02.000Z', result: 'failed', exitCode: 10, error: 'backup: repository sftp:nas:/mail does not exist', trigger: 'retry' },
    },
    'big@/c.toml': { since: '2025-02-01T00:00:00.000Z', running: { start: '2025-03-05T06:10:00.000Z', trigger: 'schedule' } },
  },
};

const now = new Date('2025-03-05T06:20:00Z');
const files = { logFile: '/home/ann/.local/state/pybackup/daemon.log', configFile: '/c.toml' };

test('status: daemon running, with a deferred, a failed, a running and an unscheduled profile', () => {
  const s = buildStatus({
    profiles,
    state,
    manual: { 'adhoc@/c.toml': { lastRun: '2025-03-04T18:00:00.000Z', lastExitCode: 3, lastDurationMs: 65_000, lastError: 'some files could not be read' } },
    instance: { pid: 4242, started: '2025-03-04T22:00:00.000Z', config: '/c.toml', alive: true },
    now,
    timeZone: 'UTC',
  });
  assert.deepEqual(statusText(s, now, files), [
    'daemon: running (pid 4242, since 2025-03-04 22:00); log: /home/ann/.local/state/pybackup/daemon.log',
    [
      'profile  schedule          last run          took   result                                   added     next run',
      '-'.repeat(158),
      'home     daily 02:00       02:00             03:05  ok (catch-up)                            12.3 MiB  2025-03-06 02:00',
      'lap      every 6h          00:00             00:40  ok                                       0 B       deferred: on battery (since 06:00; at the latest 08:00)',
      'mail     hourly :30        05:30             00:02  failed (exit 10) (retry)                 -         now',
      'big      weekly sun 03:00  -                 -      -                                        -         running since 06:10',
      'adhoc    -                 2025-03-04 18:00  01:05  ok, unreadable files (exit 3) (by hand)  -         not scheduled',
      '-'.repeat(158),
    ].join('\n'),
    'mail: backup: repository sftp:nas:/mail does not exist (2 failures in a row)',
    'adhoc: some files could not be read',
  ]);
  const j = statusJson(s, files) as { daemon: unknown; profiles: Record<string, unknown>[] };
  assert.deepEqual(j.daemon, { running: true, pid: 4242, started: '2025-03-04T22:00:00.000Z', config: '/c.toml', log: files.logFile });
  assert.deepEqual(j.profiles[0], {
    name: 'home',
    schedule: 'daily 02:00',
    repository: '/srv/repo',
    last_run: { start: '2025-03-05T02:00:00.000Z', end: '2025-03-05T02:03:05.000Z', duration_ms: 185_000, result: 'ok', exit_code: 0, error: null, bytes_added: 12_900_000, snapshot_id: 'ab'.repeat(32), trigger: 'catch-up' },
    running: null,
    deferred: null,
    next_run: '2025-03-06T02:00:00.000Z',
    overdue: false,
    consecutive_failures: 0,
  });
  assert.deepEqual(j.profiles[1]?.deferred, { since: '2025-03-05T06:00:00.000Z', reason: 'on battery', until: '2025-03-05T08:00:00.000Z' });
  assert.equal(j.profiles[2]?.overdue, true);
  assert.deepEqual(j.profiles[3]?.running, { start: '2025-03-05T06:10:00.000Z', trigger: 'schedule' });
  assert.equal(j.profiles[4]?.next_run, null);
});

test('status: with no daemon, running and deferred records are stale and overdue runs say so', () => {
  const s = buildStatus({ profiles: profiles.slice(1, 4), state, manual: {}, instance: { pid: 1, started: '2025-01-01T00:00:00.000Z', alive: false }, now, timeZone: 'UTC' });
  const text = statusText(s, now, files);
  assert.equal(text[0], 'daemon: not running (start it with `pybackup daemon`, or use timers: `pybackup schedule install`)');
  assert.match(text[1] as string, /^lap .* overdue since 06:00$/m);
  // two failures in a row: the retry is 30 minutes after the last one ended
  assert.match(text[1] as string, /^mail .* overdue since 06:00$/m);
  // seen by the daemon since February, never run
  assert.match(text[1] as string, /^big .* overdue since 2025-02-02 03:00$/m);
  assert.equal(statusJson(s, files).daemon && (statusJson(s, files).daemon as { running: boolean }).running, false);
});
