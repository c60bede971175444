import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deferReason, powerSource, type Readings } from './conditions.ts';

function sysfs(t: { after(fn: () => void): void }, supplies: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'pyb-power-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [name, files] of Object.entries(supplies)) {
    mkdirSync(join(root, name));
    for (const [f, v] of Object.entries(files)) writeFileSync(join(root, name, f), `${v}\n`);
  }
  return root;
}

test('power source from /sys/class/power_supply', (t) => {
  assert.equal(powerSource(sysfs(t, {})), 'mains', 'no supplies: a desktop');
  assert.equal(powerSource('/nonexistent/power'), 'mains');
  assert.equal(powerSource(sysfs(t, { BAT0: { type: 'Battery', status: 'Discharging' }, AC: { type: 'Mains', online: '0' } })), 'battery');
  assert.equal(powerSource(sysfs(t, { BAT0: { type: 'Battery', status: 'Charging' }, AC: { type: 'Mains', online: '1' } })), 'mains');
  assert.equal(powerSource(sysfs(t, { BAT0: { type: 'Battery', status: 'Full' }, AC: { type: 'Mains', online: '1' } })), 'mains');
  // "Not charging" with the adapter unplugged (some firmware): the adapter decides
  assert.equal(powerSource(sysfs(t, { BAT0: { type: 'Battery', status: 'Not charging' }, ADP1: { type: 'Mains', online: '0' } })), 'battery');
  assert.equal(powerSource(sysfs(t, { BAT1: { type: 'Battery', status: 'Unknown' }, ucsi: { type: 'USB', online: '1' }, AC: { type: 'Mains', online: '0' } })), 'mains');
  // a wireless mouse's battery discharging says nothing about the machine
  assert.equal(powerSource(sysfs(t, { hidpp_battery_0: { type: 'Battery', scope: 'Device', status: 'Discharging' } })), 'mains');
  // adapters without batteries (a server's PSU reporting offline) are not "on battery"
  assert.equal(powerSource(sysfs(t, { AC: { type: 'Mains', online: '0' } })), 'mains');
});

test('deferReason reads only what is asked and names the reason', () => {
  const asked: string[] = [];
  const r = (load: number, power: 'battery' | 'mains'): Readings => ({
    loadPerCore: () => (asked.push('load'), load),
    power: () => (asked.push('power'), power),
  });
  assert.equal(deferReason(undefined, r(9, 'battery')), undefined);
  assert.deepEqual(asked, []);
  assert.equal(deferReason({ onBattery: true }, r(9, 'battery')), 'on battery');
  assert.equal(deferReason({ onBattery: true }, r(9, 'mains')), undefined);
  assert.equal(deferReason({ onBattery: false, loadAbove: 0.8 }, r(1.25, 'battery')), 'load 1.25 per core is above 0.8');
  assert.equal(deferReason({ onBattery: false, loadAbove: 0.8 }, r(0.8, 'battery')), undefined);
  assert.deepEqual(asked, ['power', 'power', 'load', 'load']);
});
