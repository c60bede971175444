/**
 * What smart scheduling looks at: the system load per core, and whether the machine runs on battery. Both are read
 * through small functions so tests (and other platforms) can inject their own.
 *
 * Power, from /sys/class/power_supply/* (Linux): on battery when a battery reports `Discharging`, or when the
 * machine has batteries and every mains adapter reports `online` 0. No battery at all (desktops, servers, VMs) is
 * mains. Anything unreadable counts as mains: a condition that cannot be read never holds a backup back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';

export type PowerSource = 'battery' | 'mains';

export interface Readings {
  /** the 1-minute load average divided by the number of cores */
  loadPerCore(): number;
  power(): PowerSource;
}

export function systemLoadPerCore(): number {
  return (loadavg()[0] ?? 0) / Math.max(1, availableParallelism());
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

export function powerSource(root = '/sys/class/power_supply'): PowerSource {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 'mains';
  }
  let batteries = 0;
  let adapters = 0;
  let adaptersOnline = 0;
  for (const n of names) {
    const type = read(join(root, n, 'type'));
    if (type === 'Battery') {
      // a peripheral's battery (mouse, headset) says nothing about the machine's power
      if (read(join(root, n, 'scope')) === 'Device') continue;
      batteries++;
      if (read(join(root, n, 'status')) === 'Discharging') return 'battery';
    } else if (type === 'Mains' || type === 'USB' || type === 'USB_C' || type === 'USB_PD') {
      const online = read(join(root, n, 'online'));
      if (online === undefined) continue;
      adapters++;
      if (online === '1') adaptersOnline++;
    }
  }
  return batteries > 0 && adapters > 0 && adaptersOnline === 0 ? 'battery' : 'mains';
}

export const systemReadings: Readings = { loadPerCore: systemLoadPerCore, power: () => powerSource() };

export interface DeferSettings {
  readonly loadAbove?: number | undefined;
  readonly onBattery: boolean;
}

/** Why a run must wait now, or undefined when it may start. Reads only what the settings ask about. */
export function deferReason(d: DeferSettings | undefined, r: Readings): string | undefined {
  if (!d) return undefined;
  if (d.onBattery && r.power() === 'battery') return 'on battery';
  if (d.loadAbove !== undefined) {
    const load = r.loadPerCore();
    if (load > d.loadAbove) return `load ${load.toFixed(2)} per core is above ${d.loadAbove}`;
  }
  return undefined;
}
