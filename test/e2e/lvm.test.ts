/**
 * The LVM recipe of docs/filesystem-snapshots.md, run for real. This container's kernel has no device-mapper, so the
 * recipe runs in a small virtual machine (test/e2e/vm-run.ts) booting Debian's stock kernel, whose root is this
 * machine's / (read-only) and whose writable share is the sandbox: a volume group vg0 on a virtual disk, an ext4
 * logical volume vg0/home mounted at /home, and `pybackup run home` with the profile taken verbatim from the doc
 * (only the repository, the password file and the snapshot size are changed) — twice, with a changed and a new
 * file in between and a leftover snapshot "from a crashed run" before the second run. Then, on this machine: both
 * snapshots are recorded under /home, the second run read only the changed files (files-cache hits through a fresh
 * LVM snapshot), the snapshot LV is gone and unmounted after each run, restores equal /home at the time of each
 * run, and `check --read-data` passes. Skips, saying why, where qemu, a static busybox or apt cannot be had.
 * PYBACKUP_TEST_VM_CONSOLE=FILE keeps the VM's whole console (the guest script runs with `set -x`, timestamped).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { type CliResult, ROOT, Sandbox, assertExit, assertNoStackTrace, describe, jsonLines, writeRandomFile } from './helpers.ts';
import { ensureVmKernel } from './vm-kernel.ts';
import { runInVm, vmAccel, vmUnavailable } from './vm-run.ts';

const DOC = join(ROOT, 'docs', 'filesystem-snapshots.md');

/** The ```toml block under "## Recipe: LVM", with the machine-specific values replaced (each must occur once). */
function lvmRecipe(doc: string, replace: Readonly<Record<string, string>>): string {
  const section = doc.split(/^## Recipe: LVM$/m)[1]?.split(/^## /m)[0] ?? '';
  let toml = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(toml, 'docs/filesystem-snapshots.md has a ```toml block under "## Recipe: LVM"');
  for (const [from, to] of Object.entries(replace)) {
    assert.equal(toml.split(from).length, 2, `the LVM recipe contains ${JSON.stringify(from)} exactly once`);
    toml = toml.replace(from, () => to);
  }
  return toml;
}

/** No udev in the VM and a read-only /etc: a VM-only lvm.conf (LVM_SYSTEM_DIR), not a change to the recipe. */
const LVM_CONF = `activation {
  udev_sync = 0
  udev_rules = 0
  monitoring = 0
}
devices {
  obtain_device_list_from_udev = 0
}
backup {
  backup = 0
  archive = 0
}
`;

/**
 * /home as text, run in the VM and on the restored copy: every entry's type, mode, owner, nanosecond mtime and link
 * target, and every file's SHA-256 (a plain `cp -a` onto the 9p share would lose the nanoseconds).
 */
const MANIFEST = `{ find . -printf '%P\\t%y\\t%m\\t%U:%G\\t%T@\\t%l\\n'; find . -type f -exec sha256sum {} +; } | LC_ALL=C sort`;

function manifestOf(dir: string): string {
  const r = spawnSync('/bin/sh', ['-c', MANIFEST], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function guestScript(s: string): string {
  const q = (p: string): string => `'${p}'`;
  const run = (n: number): string =>
    `code=0; pybackup --json run home --config ${q(`${s}/config.toml`)} > ${q(`${s}/run${n}.json`)} 2> ${q(`${s}/run${n}.err`)} || code=$?
echo $code > ${q(`${s}/run${n}.code`)}
[ $code = 0 ] || tail -n 30 ${q(`${s}/run${n}.err`)}
lvs --noheadings -o lv_name vg0 | tr -d ' ' > ${q(`${s}/lvs${n}.txt`)}
grep -c ' /mnt/pybackup-home ' /proc/mounts > ${q(`${s}/mounts${n}.txt`)} || true
(cd /home && ${MANIFEST}) > ${q(`${s}/state${n}.txt`)}`;
  return `set -eux
PS4='+ [$(cut -d" " -f1 /proc/uptime)] '
export PATH=${q(`${ROOT}/bin`)}:${q(`${ROOT}/node_modules/.bin`)}:$PATH
# the catalog (SQLite in WAL mode: needs shared mmap, which the 9p share lacks) lives in the VM's tmpfs
export LVM_SYSTEM_DIR=${q(`${s}/lvm`)} PYBACKUP_CACHE_DIR=/root/.cache/pybackup
pvcreate -q /dev/vda
vgcreate -q vg0 /dev/vda
lvcreate -q -y -L 96M -n home vg0
mkfs.ext4 -q /dev/vg0/home
mount /dev/vg0/home /home
cp -a ${q(`${s}/seed`)}/. /home/
${run(1)}
cp ${q(`${s}/changed.bin`)} /home/ann/docs/f3.bin
echo more > /home/ann/docs/sub/new.txt
# a leftover from a crashed run: the recipe's first create command must clear it
lvcreate -q --snapshot --size 16M --name home-pybackup vg0/home
mkdir -p /mnt/pybackup-home
mount -o ro /dev/vg0/home-pybackup /mnt/pybackup-home
${run(2)}
umount /home
vgremove -q -y vg0
`;
}

test('LVM recipe: pybackup run backs up an LVM snapshot of /home as /home (in a VM)', { timeout: 300_000 }, async (t) => {
  const why = vmUnavailable();
  if (why) return t.skip(why);
  let kernel;
  try {
    kernel = ensureVmKernel(undefined, (s) => t.diagnostic(s));
  } catch (e) {
    return t.skip(`cannot fetch the VM kernel: ${(e as Error).message.split('\n')[0]}`);
  }
  const sb = await Sandbox.create(t);
  const s = sb.dir;
  writeFileSync(sb.path('pw'), 'correct horse battery staple');
  const toml = lvmRecipe(readFileSync(DOC, 'utf8'), {
    'repository = "sftp:backup@nas:/srv/pybackup"': `repository = "${sb.repo}"`,
    '/root/.config/pybackup/password': sb.path('pw'),
    '--size 10G': '--size 32M',
  });
  writeFileSync(sb.path('config.toml'), toml);
  mkdirSync(sb.path('lvm'));
  writeFileSync(sb.path('lvm', 'lvm.conf'), LVM_CONF);
  mkdirSync(sb.path('seed', 'ann', 'docs', 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) writeRandomFile(sb.path('seed', 'ann', 'docs', `f${i}.bin`), 40_000);
  writeFileSync(sb.path('seed', 'ann', 'docs', 'sub', 'note.txt'), 'hello');
  writeRandomFile(sb.path('changed.bin'), 40_000);
  writeFileSync(sb.path('disk.img'), '');
  truncateSync(sb.path('disk.img'), 256 << 20); // sparse: the volume group's physical volume, /dev/vda in the VM
  writeFileSync(sb.path('guest.sh'), guestScript(s));

  const vm = await runInVm({ kernel, share: s, script: sb.path('guest.sh'), expose: [ROOT], disks: [sb.path('disk.img')], timeoutMs: 240_000, accel: await vmAccel(kernel) });
  t.diagnostic(`VM (${vm.accel}) ran ${vm.ms} ms`);
  if (process.env.PYBACKUP_TEST_VM_CONSOLE) writeFileSync(process.env.PYBACKUP_TEST_VM_CONSOLE, vm.console);
  const log = `--- VM console ---\n${vm.console.slice(-6000)}`;
  assert.equal(vm.timedOut, false, `the VM timed out\n${log}`);
  assert.equal(vm.status, 0, `the guest script failed (status ${vm.status})\n${log}`);

  const runOf = (n: number): { summary: Record<string, unknown>; commands: string[] } => {
    const stdoutBuf = readFileSync(sb.path(`run${n}.json`));
    const code = Number(readFileSync(sb.path(`run${n}.code`), 'utf8'));
    const r: CliResult = { code, signal: null, stdout: stdoutBuf.toString(), stderr: readFileSync(sb.path(`run${n}.err`), 'utf8'), stdoutBuf };
    assertExit(r, 0, `pybackup run home #${n} (in the VM)`);
    assertNoStackTrace(r, `pybackup run home #${n}`);
    const lines = jsonLines(r.stdout);
    const summary = lines.find((l) => l.message_type === 'summary' && 'files_unmodified' in l);
    assert.ok(summary, describe(r));
    assert.deepEqual(readFileSync(sb.path(`lvs${n}.txt`), 'utf8').split('\n').filter(Boolean), ['home'], `run ${n}: only vg0/home is left (no home-pybackup)`);
    assert.equal(readFileSync(sb.path(`mounts${n}.txt`), 'utf8').trim(), '0', `run ${n}: the snapshot is unmounted`);
    return { summary, commands: lines.filter((l) => l.message_type === 'profile_command').map((l) => String(l.command)) };
  };
  const first = runOf(1);
  const second = runOf(2);
  const step = (parse(toml) as { profiles: { home: { snapshot: Record<string, string | string[]> } } }).profiles.home.snapshot;
  const recipeCommands = [step.create, step.remove].flat();
  assert.ok(recipeCommands.some((c) => c?.startsWith('lvcreate --snapshot ')), 'the recipe takes an LVM snapshot');
  for (const r of [first, second]) assert.deepEqual(r.commands, recipeCommands, "the run ran the recipe's commands");
  assert.equal(first.summary.files_new, 21);
  assert.equal(second.summary.files_new, 1, 'only new.txt is new');
  assert.equal(second.summary.files_changed, 1, 'only f3.bin changed');
  assert.equal(second.summary.files_unmodified, 20, 'unchanged files are files-cache hits through a fresh LVM snapshot');

  const snaps = JSON.parse((await sb.cli(['--json', 'snapshots'])).stdout) as { id: string; paths: string[] }[];
  assert.deepEqual(snaps.map((x) => x.paths), [['/home'], ['/home']], 'recorded under the original path, not the snapshot mount');
  for (const [i, snap] of snaps.entries()) {
    const target = sb.path(`restore${i + 1}`);
    assertExit(await sb.cli(['restore', snap.id, '--target', target]), 0, `restore ${snap.id}`);
    assert.equal(manifestOf(join(target, 'home')), readFileSync(sb.path(`state${i + 1}.txt`), 'utf8'), `restore of run ${i + 1} equals /home then`);
  }
  assertExit(await sb.cli(['check', '--read-data']), 0, 'check --read-data');
});
