/**
 * `pybackup daemon`: runs profiles on their schedules (planner.ts decides what and when). Each job is run by an
 * injected `runJob` (the CLI spawns `pybackup run PROFILE --json` as a child process, so a crashing job cannot take
 * the daemon down). The state file records every start and end; on SIGTERM/SIGINT no new job starts, running jobs
 * may finish for `graceMs`, then they are told to stop (the signal is forwarded) and awaited.
 */
import type { Profile } from '../app/profile/profile.ts';
import { profileKey } from '../app/profile/state.ts';
import type { Readings } from './conditions.ts';
import { type DaemonState, type LastRun, type ProfileRecord, readDaemonState, type RunResultKind, type Trigger, writeDaemonState } from './daemon-state.ts';
import { plan, type PlanProfile } from './planner.ts';
import type { LogLevel } from './rotating-log.ts';
import { formatSchedule } from './schedule.ts';

export interface Clock {
  now(): number;
  /** resolves after `ms`, or at once when `signal` aborts */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) =>
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

export interface JobOutcome {
  readonly result: RunResultKind;
  readonly exitCode: number | null;
  readonly error?: string | undefined;
  readonly bytesAdded?: number | undefined;
  readonly snapshotId?: string | undefined;
}

export interface DaemonConfig {
  readonly file: string;
  readonly profiles: readonly Profile[];
}

export interface DaemonOptions {
  /** the configuration, read again on every look (the caller re-reads the file only when it changed); throws on errors */
  readonly load: () => DaemonConfig;
  readonly runJob: (p: Profile, configFile: string, signal: AbortSignal) => Promise<JobOutcome>;
  readonly readings: Readings;
  readonly statePath: string;
  /** when each profile last ran by hand (the profile state's lastRun), by state key */
  readonly manualRuns?: () => Readonly<Record<string, string | undefined>>;
  readonly log: (level: LogLevel, message: string) => void;
  readonly clock?: Clock;
  readonly maxJobs?: number;
  /** how long running jobs may go on after a stop request before they are told to stop (default 60 s) */
  readonly graceMs?: number;
  /** the longest sleep between two looks (default 60 s): bounds how late a wake from suspend is noticed */
  readonly maxSleepMs?: number;
  readonly timeZone?: string;
}

interface Job {
  readonly profile: string;
  readonly ac: AbortController;
  readonly done: Promise<void>;
}

const planProfile = (file: string, p: Profile): PlanProfile => ({ key: profileKey(file, p.name), name: p.name, schedule: p.schedule, repository: p.repository, defer: p.defer });

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #clock: Clock;
  readonly #jobs = new Map<string, Job>();
  #state: DaemonState = { version: 1, profiles: {} };
  #config: DaemonConfig | undefined;
  #configError: string | undefined;
  #wake = new AbortController();

  constructor(o: DaemonOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
  }

  #iso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  #record(key: string): ProfileRecord {
    return (this.#state.profiles[key] ??= {});
  }

  #save(): void {
    try {
      writeDaemonState(this.#o.statePath, this.#state);
    } catch (e) {
      this.#o.log('error', `cannot write the state file ${this.#o.statePath}: ${(e as Error).message}`);
    }
  }

  #reload(): DaemonConfig | undefined {
    try {
      const c = this.#o.load();
      if (this.#configError !== undefined || this.#config === undefined || c !== this.#config) {
        const scheduled = c.profiles.filter((p) => p.schedule);
        this.#o.log('info', `configuration ${c.file}: ${scheduled.length} scheduled profile${scheduled.length === 1 ? '' : 's'}${scheduled.length ? ` (${scheduled.map((p) => `${p.name}: ${formatSchedule(p.schedule!)}`).join(', ')})` : ''}`);
      }
      this.#config = c;
      this.#configError = undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (message !== this.#configError) this.#o.log('error', `${this.#config ? 'keeping the previous configuration: ' : ''}${message}`);
      this.#configError = message;
    }
    return this.#config;
  }

  /** Runs until `signal` aborts, then stops as described above. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    this.#state = readDaemonState(o.statePath, (m) => o.log('warn', m));
    // a run that was going on when a previous daemon died did not finish: it counts as interrupted
    for (const [key, rec] of Object.entries(this.#state.profiles)) {
      if (!rec.running) continue;
      rec.last = { start: rec.running.start, end: this.#iso(), result: 'interrupted', exitCode: null, error: 'the daemon stopped during the run', trigger: rec.running.trigger };
      rec.failures = (rec.failures ?? 0) + 1;
      delete rec.running;
      o.log('warn', `${key.split('@')[0]}: the run started at ${rec.last.start} was interrupted (the daemon stopped)`);
    }
    this.#save();
    o.log('info', `daemon started (pid ${process.pid}, at most ${o.maxJobs ?? 2} jobs at once)`);
    while (!signal.aborted) {
      this.#tick();
      const now = this.#clock.now();
      const next = this.#nextLook ?? Number.POSITIVE_INFINITY;
      const ms = Math.max(0, Math.min(next - now, o.maxSleepMs ?? 60_000));
      this.#wake = new AbortController();
      await this.#clock.sleep(ms, AbortSignal.any([signal, this.#wake.signal]));
    }
    await this.#stop();
  }

  #nextLook: number | undefined;
  #lastLook: number | undefined;

  #tick(): void {
    const o = this.#o;
    const config = this.#reload();
    this.#nextLook = undefined;
    if (!config) return;
    const now = this.#clock.now();
    const profiles = config.profiles.map((p) => planProfile(config.file, p));
    let changed = false;
    for (const p of profiles) {
      const rec = this.#record(p.key);
      if (rec.since === undefined && p.schedule) {
        rec.since = new Date(now).toISOString();
        changed = true;
      }
    }
    const decision = plan({
      profiles,
      records: this.#state.profiles,
      ...(o.manualRuns ? { manual: o.manualRuns() } : {}),
      now: new Date(now),
      ...(this.#lastLook !== undefined ? { lastLook: new Date(this.#lastLook) } : {}),
      running: new Set(this.#jobs.keys()),
      maxJobs: o.maxJobs ?? 2,
      readings: o.readings,
      ...(o.timeZone ? { timeZone: o.timeZone } : {}),
    });
    for (const d of decision.defer) {
      const rec = this.#record(d.key);
      if (rec.deferred?.reason !== d.reason || rec.deferred.since !== d.since) {
        o.log('info', `${d.key.split('@')[0]}: deferred (${d.reason}); runs at ${d.until.toISOString()} at the latest`);
        rec.deferred = { since: d.since, reason: d.reason };
        changed = true;
      }
    }
    // a deferral ends when its condition clears (the run starts or waits for its repository) or the run is no longer due
    const deferred = new Set(decision.defer.map((d) => d.key));
    for (const p of profiles) {
      const rec = this.#state.profiles[p.key];
      if (rec?.deferred && !deferred.has(p.key) && !decision.start.some((s) => s.key === p.key)) {
        delete rec.deferred;
        changed = true;
      }
    }
    const byKey = new Map(config.profiles.map((p) => [profileKey(config.file, p.name), p]));
    for (const s of decision.start) {
      const p = byKey.get(s.key);
      if (!p) continue;
      this.#start(p, config.file, s.key, s.trigger);
      changed = true;
    }
    if (changed) this.#save();
    this.#nextLook = decision.wakeAt?.getTime();
    this.#lastLook = now;
  }

  #start(p: Profile, file: string, key: string, trigger: Trigger): void {
    const o = this.#o;
    const rec = this.#record(key);
    const start = this.#iso();
    const was = rec.deferred;
    delete rec.deferred;
    rec.running = { start, trigger };
    o.log('info', `${p.name}: starting (${trigger}${was ? `, deferred since ${was.since}: ${was.reason}` : ''})`);
    const ac = new AbortController();
    const done = (async () => {
      let out: JobOutcome;
      try {
        out = await o.runJob(p, file, ac.signal);
      } catch (e) {
        out = { result: 'failed', exitCode: null, error: (e as Error)?.message ?? String(e) };
      }
      const end = this.#iso();
      const last: LastRun = {
        start,
        end,
        result: out.result,
        exitCode: out.exitCode,
        trigger,
        ...(out.error !== undefined ? { error: out.error } : {}),
        ...(out.bytesAdded !== undefined ? { bytesAdded: out.bytesAdded } : {}),
        ...(out.snapshotId !== undefined ? { snapshotId: out.snapshotId } : {}),
      };
      const r = this.#record(key);
      r.last = last;
      r.failures = out.result === 'ok' || out.result === 'warning' ? 0 : (r.failures ?? 0) + 1;
      delete r.running;
      this.#save();
      const secs = ((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1);
      const what = out.result === 'ok' || out.result === 'warning' ? `${out.result}${out.snapshotId ? `, snapshot ${out.snapshotId.slice(0, 8)}` : ''}${out.bytesAdded !== undefined ? `, ${out.bytesAdded} bytes added` : ''}` : `${out.result} (exit ${out.exitCode ?? '-'}): ${out.error ?? 'no message'}`;
      o.log(out.result === 'ok' ? 'info' : out.result === 'warning' ? 'warn' : 'error', `${p.name}: ${what} in ${secs} s`);
      this.#jobs.delete(key);
      this.#wake.abort();
    })();
    this.#jobs.set(key, { profile: p.name, ac, done });
  }

  async #stop(): Promise<void> {
    const o = this.#o;
    const jobs = [...this.#jobs.values()];
    if (jobs.length > 0) {
      const grace = o.graceMs ?? 60_000;
      o.log('info', `stopping: waiting up to ${Math.round(grace / 1000)} s for ${jobs.map((j) => j.profile).join(', ')}`);
      const allDone = Promise.all(jobs.map((j) => j.done));
      const timer = new AbortController();
      const finished = await Promise.race([allDone.then(() => true), this.#clock.sleep(grace, timer.signal).then(() => false)]);
      timer.abort();
      if (!finished) {
        const left = [...this.#jobs.values()];
        o.log('warn', `stopping: telling ${left.map((j) => j.profile).join(', ')} to stop`);
        for (const j of left) j.ac.abort();
        await allDone;
      }
    }
    this.#save();
    o.log('info', 'daemon stopped');
  }
}
