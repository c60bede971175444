/**
 * The kernel of the test VM (test/e2e/vm-run.ts): Debian's stock kernel package (`linux-image-amd64`'s dependency,
 * e.g. linux-image-6.1.0-56-amd64), fetched with `apt-get download` — never installed — and unpacked with
 * `dpkg-deb -x`; only vmlinuz and the modules the VM needs (plus their dependencies, read from each module's
 * .modinfo) are kept in a cache directory, so later runs cost nothing. Idempotent; safe to interrupt (the cache entry
 * appears by one rename). Run it directly to fill the cache: `node test/e2e/vm-kernel.ts`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface VmKernel {
  /** the Debian package it came from */
  readonly package: string;
  /** `uname -r` inside the VM */
  readonly release: string;
  readonly vmlinuz: string;
  /** absolute paths of the .ko files, in load order (dependencies first) */
  readonly modules: readonly string[];
}

/**
 * What the VM loads: virtio PCI/block devices, 9p over virtio (the shared root and the writable share), ext4, and
 * device-mapper with its snapshot target. Modules built into the kernel are skipped.
 */
export const VM_MODULES = ['virtio_pci', 'virtio_blk', '9pnet_virtio', '9p', 'crc32c_generic', 'crc32c_intel', 'ext4', 'dm_mod', 'dm_snapshot', 'loop'] as const;

const MANIFEST = 'manifest.json';

export function defaultVmCacheDir(): string {
  return process.env.PYBACKUP_TEST_VM_CACHE ?? resolve(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'pybackup-test-vm');
}

function run(cmd: string, args: readonly string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

/** The versioned kernel package `linux-image-amd64` depends on, or undefined when apt does not know it. */
function resolvePackage(): string | undefined {
  const r = run('apt-cache', ['depends', 'linux-image-amd64']);
  return /Depends:\s*(linux-image-\S+)/.exec(r.out)?.[1];
}

const normalize = (name: string): string => name.replaceAll('-', '_');

/** A module's `depends=` list from its .modinfo section (the same strings `modinfo -F depends` prints). */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko.buffer, ko.byteOffset, ko.byteLength).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(',').filter(Boolean).map(normalize) : [];
}

function walk(dir: string, out: Map<string, string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ko')) out.set(normalize(e.name.slice(0, -3)), p);
  }
}

/** The .ko files of `roots` and their dependencies under an unpacked modules dir, dependencies first. */
export function moduleClosure(modulesDir: string, roots: readonly string[]): string[] {
  const byName = new Map<string, string>();
  walk(join(modulesDir, 'kernel'), byName);
  const builtinFile = join(modulesDir, 'modules.builtin');
  const builtin = new Set(
    (existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => normalize(l.split('/').pop()?.replace(/\.ko$/, '') ?? '')),
  );
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, chain: readonly string[]): void => {
    if (seen.has(name)) return;
    if (chain.includes(name)) throw new Error(`module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const path = byName.get(name);
    if (!path) {
      if (builtin.has(name)) return;
      throw new Error(`kernel module ${name} is neither a .ko file nor built in`);
    }
    for (const d of moduleDepends(readFileSync(path))) visit(d, [...chain, name]);
    seen.add(name);
    order.push(path);
  };
  for (const r of roots) visit(normalize(r), []);
  return order;
}

function readManifest(dir: string): VmKernel | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as { package: string; release: string; modules: string[] };
    const k: VmKernel = { package: m.package, release: m.release, vmlinuz: join(dir, 'vmlinuz'), modules: m.modules.map((f) => join(dir, 'modules', f)) };
    return [k.vmlinuz, ...k.modules].every((f) => existsSync(f)) ? k : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cached kernel, fetching it first when the cache is empty (about 70 MB from the Debian mirror, a few seconds).
 * Throws with apt's output when the package cannot be resolved or downloaded.
 */
export function ensureVmKernel(cacheDir = defaultVmCacheDir(), log: (s: string) => void = () => {}): VmKernel {
  const entry = join(cacheDir, 'kernel');
  const cached = readManifest(entry);
  if (cached) return cached;
  mkdirSync(cacheDir, { recursive: true });
  let pkg = resolvePackage();
  if (!pkg) {
    log('apt-cache does not know linux-image-amd64; running apt-get update');
    const u = run('apt-get', ['update']);
    if (!u.ok) throw new Error(`apt-get update failed:\n${u.out}`);
    pkg = resolvePackage();
    if (!pkg) throw new Error('apt-cache depends linux-image-amd64 names no kernel package');
  }
  const work = mkdtempSync(join(cacheDir, 'fetch-'));
  try {
    log(`downloading ${pkg} (apt-get download)`);
    let dl = run('apt-get', ['download', pkg], work);
    if (!dl.ok) {
      run('apt-get', ['update']);
      dl = run('apt-get', ['download', pkg], work);
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!dl.ok || !deb) throw new Error(`apt-get download ${pkg} failed:\n${dl.out}`);
    const x = join(work, 'x');
    const ex = run('dpkg-deb', ['-x', join(work, deb), x]);
    if (!ex.ok) throw new Error(`dpkg-deb -x failed:\n${ex.out}`);
    const release = readdirSync(join(x, 'lib', 'modules'))[0];
    const vmlinuz = readdirSync(join(x, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!release || !vmlinuz) throw new Error(`${deb} has no kernel image or modules`);
    const modules = moduleClosure(join(x, 'lib', 'modules', release), VM_MODULES);
    const out = join(work, 'kernel');
    mkdirSync(join(out, 'modules'), { recursive: true });
    copyFileSync(join(x, 'boot', vmlinuz), join(out, 'vmlinuz'));
    const names = modules.map((p) => p.split('/').pop() ?? p);
    modules.forEach((p, i) => copyFileSync(p, join(out, 'modules', names[i] ?? '')));
    writeFileSync(join(out, MANIFEST), `${JSON.stringify({ package: pkg, release, modules: names }, null, 2)}\n`);
    rmSync(entry, { recursive: true, force: true });
    renameSync(out, entry);
    log(`cached ${pkg} (${release}, ${names.length} modules) in ${entry}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const k = readManifest(entry);
  if (!k) throw new Error(`the kernel cache ${entry} is incomplete`);
  return k;
}

if (import.meta.main) {
  const k = ensureVmKernel(defaultVmCacheDir(), (s) => console.log(s));
  console.log(JSON.stringify(k, null, 2));
}
