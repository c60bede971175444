/**
 * `pybackup schedule install|remove --systemd`: which unit files to write and remove, computed first (so --dry-run
 * can show it) and then applied. Only files that carry our marker are ever removed or replaced; a user's own
 * pybackup-*.timer without it is left alone (and installing over it is refused).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Schedule } from './schedule.ts';
import { generatedFor, systemdUnits, unitName } from './systemd-units.ts';

export function systemdUserDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.config'), 'systemd', 'user');
}

export interface UnitPlan {
  readonly write: readonly { readonly path: string; readonly content: string }[];
  readonly remove: readonly string[];
  /** timers to enable (after daemon-reload) */
  readonly enable: readonly string[];
  /** timers whose files go: disabled first (--enable/--disable), or stopped by hand afterwards */
  readonly disable: readonly string[];
}

/** The files that go with our units: the units, and the enablement links `systemctl enable` made for the timers. */
function withLinks(dir: string, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    out.push(join(dir, n));
    if (!n.endsWith('.timer')) continue;
    const link = join(dir, 'timers.target.wants', n);
    try {
      if (lstatSync(link).isSymbolicLink()) out.push(link);
    } catch {
      // not enabled
    }
  }
  return out.sort();
}

/** Our unit files in `dir`: file name -> the configuration they were generated for. */
function ourUnits(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^pybackup-.+\.(service|timer)$/.test(n)) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, n), 'utf8');
    } catch {
      continue;
    }
    const cfg = generatedFor(text);
    if (cfg !== undefined) out.set(n, cfg);
  }
  return out;
}

const isForeign = (dir: string, name: string): boolean => {
  try {
    return generatedFor(readFileSync(join(dir, name), 'utf8')) === undefined;
  } catch {
    return false;
  }
};

/**
 * The units for `profiles`. With `all` (no profile named), units generated earlier from the same configuration for
 * profiles that are gone or no longer scheduled are removed.
 */
export function planSystemdInstall(o: { dir: string; configFile: string; command: readonly string[]; profiles: readonly { name: string; schedule: Schedule }[]; all: boolean }): UnitPlan {
  if (o.configFile.includes('\n')) throw new UsageError('the configuration file path contains a newline');
  const write: { path: string; content: string }[] = [];
  const keep = new Set<string>();
  for (const p of o.profiles) {
    const u = systemdUnits({ profile: p.name, schedule: p.schedule, configFile: o.configFile, command: o.command });
    for (const [ext, content] of [['service', u.service], ['timer', u.timer]] as const) {
      const name = `${unitName(p.name)}.${ext}`;
      if (isForeign(o.dir, name)) throw new UsageError(`${join(o.dir, name)} exists and was not written by pybackup: not replacing it`);
      keep.add(name);
      write.push({ path: join(o.dir, name), content });
    }
  }
  const stale = o.all ? [...ourUnits(o.dir)].filter(([n, cfg]) => cfg === o.configFile && !keep.has(n)).map(([n]) => n) : [];
  return {
    write,
    remove: withLinks(o.dir, stale),
    enable: o.profiles.map((p) => `${unitName(p.name)}.timer`),
    disable: stale.filter((n) => n.endsWith('.timer')).sort(),
  };
}

/** Removing our units: those of `configFile`, or all of them. */
export function planSystemdRemove(o: { dir: string; configFile?: string | undefined }): UnitPlan {
  const ours = [...ourUnits(o.dir)].filter(([, cfg]) => o.configFile === undefined || cfg === o.configFile).map(([n]) => n).sort();
  return { write: [], remove: withLinks(o.dir, ours), enable: [], disable: ours.filter((n) => n.endsWith('.timer')) };
}

export function applyUnitPlan(plan: UnitPlan): void {
  for (const f of plan.write) {
    mkdirSync(join(f.path, '..'), { recursive: true });
    writeFileSync(f.path, f.content, { mode: 0o644 });
  }
  for (const f of plan.remove) rmSync(f, { force: true });
}
