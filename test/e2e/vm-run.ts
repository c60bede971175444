/**
 * Runs a shell script as root inside a small qemu virtual machine (KVM where it works, else qemu's TCG emulator) with
 * Debian's stock kernel (test/e2e/vm-kernel.ts), for tests that need kernel features this container lacks
 * (device-mapper for LVM). No root disk image: the VM's root is the host's / shared read-only over 9p, with fresh
 * proc/sys/devtmpfs and tmpfs on /tmp, /run, /mnt, /home, /root, /var/tmp (the host's files there stay hidden);
 * `share` (a host directory) is mounted writable at the same path, so the script, its inputs and its results live
 * there and paths are the same inside and outside. Optional raw disk images appear as /dev/vda, /dev/vdb, ...
 * A tiny initramfs (busybox-static + the kernel modules, built at run time) loads the modules, mounts all that,
 * chroots into the host root and runs the script, writes its exit status into the share and powers off.
 * The script's output arrives on the serial console. qemu gets a hard timeout and is always killed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildCpio, type CpioEntry } from './vm-cpio.ts';
import type { VmKernel } from './vm-kernel.ts';

export const QEMU = '/usr/bin/qemu-system-x86_64';
export const BUSYBOX = '/bin/busybox';

export interface VmRun {
  /** the script's exit status; undefined when the VM never got to write it (crash, timeout) */
  readonly status: number | undefined;
  /** the serial console: kernel messages and the script's stdout/stderr */
  readonly console: string;
  readonly timedOut: boolean;
  readonly ms: number;
  readonly accel: 'kvm' | 'tcg';
}

export interface VmOptions {
  readonly kernel: VmKernel;
  /** host directory mounted read-write at the same path in the VM */
  readonly share: string;
  /** shell script (a host path visible in the VM) run with /bin/sh as root, cwd / */
  readonly script: string;
  /**
   * host directories the VM must see at the same path although they lie under one of the fresh tmpfs mounts (a
   * checkout in /tmp, as CI may make): bound read-only from the host root
   */
  readonly expose?: readonly string[];
  readonly disks?: readonly string[];
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly timeoutMs: number;
  /** environment of the script (PATH, HOME=/root, TMPDIR=/tmp and LANG are set) */
  readonly env?: Readonly<Record<string, string>>;
  /** 'kvm' (hardware virtualization) or 'tcg' (qemu's emulator: slower, works everywhere); default 'kvm' */
  readonly accel?: 'kvm' | 'tcg';
}

/** Why this machine cannot run the VM, or undefined when it can. */
export function vmUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the test VM needs Linux on x86-64';
  if (process.getuid?.() !== 0) return "needs root (qemu exports / over 9p with the files' owners)";
  if (!existsSync(QEMU)) return `${QEMU} is missing (apt package qemu-system-x86)`;
  if (!isStaticElf(BUSYBOX)) return `${BUSYBOX} is missing or not statically linked (apt package busybox-static)`;
  return undefined;
}

let accelChoice: Promise<'kvm' | 'tcg'> | undefined;

/**
 * 'kvm' when a KVM guest boots promptly, else 'tcg'. /dev/kvm existing is not enough: under some hypervisors nested
 * KVM is accepted but runs a guest thousands of times slower than qemu's own emulator (measured in this container:
 * no kernel output after 2 minutes, while TCG boots to init in 2 s). PYBACKUP_TEST_VM_ACCEL=kvm|tcg skips the probe.
 * The answer is cached per boot, so only the first run on a machine pays for the probe (8 s at most).
 */
export function vmAccel(kernel: VmKernel): Promise<'kvm' | 'tcg'> {
  const forced = process.env.PYBACKUP_TEST_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  accelChoice ??= cachedProbe(kernel);
  return accelChoice;
}

/** The probe's answer is kept next to the kernel for this boot of this machine (/proc/sys/kernel/random/boot_id). */
async function cachedProbe(kernel: VmKernel): Promise<'kvm' | 'tcg'> {
  const file = join(dirname(kernel.vmlinuz), 'kvm-probe.json');
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const c = JSON.parse(readFileSync(file, 'utf8')) as { bootId?: string; accel?: string };
    if (c.bootId === bootId && (c.accel === 'kvm' || c.accel === 'tcg')) return c.accel;
  } catch {
    // no answer yet
  }
  const accel = await probeKvm(kernel);
  if (bootId) writeFileSync(file, JSON.stringify({ bootId, accel }));
  return accel;
}

async function probeKvm(kernel: VmKernel): Promise<'kvm' | 'tcg'> {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
  } catch {
    return 'tcg';
  }
  const dir = mkdtempSync(join(tmpdir(), 'pybackup-kvm-probe-'));
  try {
    const init = '#!/bin/busybox sh\n/bin/busybox echo vm-probe-ok\n/bin/busybox poweroff -f\n';
    const initrd = join(dir, 'initrd.cpio');
    writeFileSync(initrd, buildCpio([{ kind: 'dir', path: 'bin' }, { kind: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 }, { kind: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 }]));
    const r = await qemu([...machineArgs('kvm', 256, 1), '-kernel', kernel.vmlinuz, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1 quiet'], 8_000);
    return !r.timedOut && r.output.includes('vm-probe-ok') ? 'kvm' : 'tcg';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function machineArgs(accel: 'kvm' | 'tcg', memoryMb: number, cpus: number): string[] {
  return [
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    // arch-capabilities: nested KVM on AMD refuses to set that MSR (qemu aborts with "failed to set MSR 0x10a")
    // TCG single-threaded: with thread=multi (qemu 7.2), Node crashed in the guest in about 1 start of 3 (SIGSEGV, or
    // V8 "Check failed" + SIGTRAP); single-threaded it never did, and was no slower here
    ...(accel === 'tcg' ? ['-accel', 'tcg,thread=single', '-cpu', 'max'] : ['-accel', 'kvm', '-cpu', 'host,-arch-capabilities']),
    '-m', String(memoryMb), '-smp', String(cpus),
  ];
}

/** Runs qemu to its end, killing it (SIGKILL) at the timeout; output is stdout + stderr. */
async function qemu(args: readonly string[], timeoutMs: number): Promise<{ output: string; timedOut: boolean }> {
  const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => out.push(b));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    await new Promise<void>((res, rej) => {
      child.on('error', rej);
      child.on('close', () => res());
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  // the serial console turns \n into \r\n
  return { output: Buffer.concat(out).toString('utf8').replaceAll('\r\n', '\n'), timedOut };
}

/** An ELF executable without a PT_INTERP program header (no dynamic loader needed). */
export function isStaticElf(path: string): boolean {
  const b = Buffer.alloc(65536); // the ELF header and program headers are at the start
  try {
    const fd = openSync(path, 'r');
    try {
      b.fill(0, readSync(fd, b, 0, b.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF, 64-bit
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > b.length) return false;
    if (b.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

const shq = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

const STATUS_FILE = '.vm-exit-status';

/** The initramfs /init: modules, mounts, chroot, status, poweroff. */
export function initScript(o: { modules: readonly string[]; share: string; script: string; env: Readonly<Record<string, string>>; expose?: readonly string[] }): string {
  const env = Object.entries(o.env).map(([k, v]) => `${k}=${shq(v)}`);
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "vm-init: $*"; poweroff -f; }
for m in ${o.modules.map(shq).join(' ')}; do insmod "/modules/$m" || fail "insmod $m failed"; done
mkdir -p /newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /newroot || fail "cannot mount the host root"
mkdir -p /hostview
mount -o bind /newroot /hostview || fail "cannot bind the host root"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
for d in /tmp /run /mnt /home /root /var/tmp; do mount -t tmpfs -o mode=0755 tmpfs "/newroot$d" || fail "tmpfs on $d"; done
chmod 1777 /newroot/tmp /newroot/var/tmp
${(o.expose ?? []).map((d) => `mkdir -p /newroot${shq(d)} && mount -o bind /hostview${shq(d)} /newroot${shq(d)} || fail ${shq(`cannot expose ${d}`)}`).join('\n')}
mkdir -p /newroot${shq(o.share)}
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none share /newroot${shq(o.share)} || fail "cannot mount the share"
echo "vm-init: running the script"
env -i ${env.join(' ')} chroot /newroot /bin/sh -c 'cd / && exec /bin/sh "$0"' ${shq(o.script)}
echo $? > /newroot${shq(join(o.share, STATUS_FILE))}
sync
echo "vm-init: done"
poweroff -f
`;
}

function initramfs(kernel: VmKernel, init: string): Buffer {
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'modules', 'newroot'].map((path) => ({ kind: 'dir' as const, path })),
    { kind: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 },
    { kind: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 },
    ...kernel.modules.map((m) => ({ kind: 'file' as const, path: `modules/${m.split('/').pop() ?? m}`, data: readFileSync(m) })),
  ];
  return buildCpio(entries);
}

/** Boots the VM, runs the script, waits for the power-off (or kills qemu at the timeout). */
export async function runInVm(o: VmOptions): Promise<VmRun> {
  const statusFile = join(o.share, STATUS_FILE);
  rmSync(statusFile, { force: true });
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TMPDIR: '/tmp', LANG: 'C.UTF-8', TZ: 'UTC', ...o.env };
  const initrd = join(o.share, '.vm-initrd.cpio');
  const names = o.kernel.modules.map((m) => m.split('/').pop() ?? m);
  writeFileSync(initrd, initramfs(o.kernel, initScript({ modules: names, share: o.share, script: o.script, env, ...(o.expose ? { expose: o.expose } : {}) })));
  const accel = o.accel ?? 'kvm';
  const args = [
    ...machineArgs(accel, o.memoryMb ?? 1024, o.cpus ?? 2),
    '-kernel', o.kernel.vmlinuz, '-initrd', initrd,
    '-append', 'console=ttyS0 panic=-1 loglevel=4 quiet',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${o.share},mount_tag=share,security_model=none,multidevs=remap`,
    ...(o.disks ?? []).flatMap((d) => ['-drive', `file=${d},format=raw,if=virtio,cache=unsafe`]),
  ];
  const started = Date.now();
  let r: { output: string; timedOut: boolean };
  try {
    r = await qemu(args, o.timeoutMs);
  } finally {
    rmSync(initrd, { force: true });
  }
  let status: number | undefined;
  try {
    const s = readFileSync(statusFile, 'utf8').trim();
    status = /^\d+$/.test(s) ? Number(s) : undefined;
  } catch {
    status = undefined;
  }
  return { status, console: r.output, timedOut: r.timedOut, ms: Date.now() - started, accel };
}
