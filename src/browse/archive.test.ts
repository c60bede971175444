import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ContentReader } from './content.ts';
import { dumpArchive, splitDev } from './dump.ts';
import { tarHeader } from './tar.ts';
import { RepoBuilder } from './test-fixture.ts';
import { TreeStore } from './tree-store.ts';
import { type ByteSink, ZipWriter } from './zip.ts';

const IS_ROOT = process.getuid?.() === 0;
const LONG = `${'d'.repeat(120)}/${'n'.repeat(150)}.txt`; // > 256 bytes in all: needs a pax path
const big = randomBytes(300_000);
let b: RepoBuilder;
let root: string;
let tmp: string;
before(async () => {
  b = await RepoBuilder.create();
  tmp = mkdtempSync(join(tmpdir(), 'pyb-archive-'));
  const [d1, d2] = LONG.split('/') as [string, string];
  root = b.tree([
    b.dir('top', [
      b.file('big.bin', [big.subarray(0, 100_000), big.subarray(100_000)], { mtime: '1700000000123456789', uid: 1234, gid: 5678, user: 'someone', group: 'grp', links: 2, inode: '42', dev: '1' }),
      b.file('hard', [big.subarray(0, 100_000), big.subarray(100_000)], { links: 2, inode: '42', dev: '1' }),
      b.file('text.txt', ['hello\n'.repeat(1000)], { mode: 0o640 }),
      b.file(Buffer.from([0x6e, 0xff, 0x2e, 0x62]), ['not utf-8 name']),
      b.file('sp ace & "quote"', ['q']),
      b.dir(d1, [b.file(d2, ['deep'])]),
      b.symlink('link', 'text.txt'),
      b.other('fifo', 'fifo'),
      b.other('null', 'chardev', { rdev: '259' }),
      b.other('sock', 'socket'),
      b.file('empty', []),
    ]),
  ]);
  await b.flush();
});
after(async () => {
  await b.done();
  rmSync(tmp, { recursive: true, force: true });
});

async function dumpTo(format: 'tar' | 'zip', file: string): Promise<{ skipped: string[] }> {
  const store = new TreeStore(b.repo);
  const reader = new ContentReader(b.repo);
  const parts: Buffer[] = [];
  const skipped: string[] = [];
  const top = (await store.tree(root)).nodes[0];
  await dumpArchive(format, store, reader, { treeId: top?.subtree as string, node: top, name: Buffer.from('top') }, async (c) => void parts.push(Buffer.from(c)), { onSkip: (p) => skipped.push(p.toString()) });
  writeFileSync(file, Buffer.concat(parts));
  return { skipped };
}

test('tar: GNU tar lists and extracts it exactly (pax names, ns mtimes, owners, links, devices)', async () => {
  const file = join(tmp, 'a.tar');
  const { skipped } = await dumpTo('tar', file);
  assert.deepEqual(skipped, ['top/sock']);
  const list = execFileSync('tar', ['-tvf', file], { encoding: 'latin1' });
  assert.match(list, /top\/hard link to top\/big\.bin/);
  assert.match(list, /top\/link -> text\.txt/);
  assert.ok(list.includes(LONG), 'the long path survives');
  const out = join(tmp, 'x');
  mkdirSync(out);
  const r = spawnSync('tar', ['-xf', file, '-C', out, '--numeric-owner'], { encoding: 'utf8' });
  assert.equal(r.status, IS_ROOT ? 0 : r.status, r.stderr);
  assert.ok(readFileSync(join(out, 'top/big.bin')).equals(big));
  assert.ok(readFileSync(join(out, 'top/hard')).equals(big));
  assert.equal(readFileSync(join(out, 'top', LONG), 'utf8'), 'deep');
  assert.equal(readFileSync(Buffer.from(`${out}/top/n\xff.b`, 'latin1'), 'utf8'), 'not utf-8 name');
  assert.equal(readlinkSync(join(out, 'top/link')), 'text.txt');
  assert.equal(statSync(join(out, 'top/text.txt')).mode & 0o7777, 0o640);
  assert.equal(statSync(join(out, 'top/empty')).size, 0);
  const st = statSync(join(out, 'top/big.bin'), { bigint: true });
  assert.equal(st.mtimeNs, 1700000000123456789n);
  if (IS_ROOT) {
    assert.equal(st.uid, 1234n);
    assert.equal(st.gid, 5678n);
    assert.equal(st.ino, statSync(join(out, 'top/hard'), { bigint: true }).ino, 'hard link restored');
    assert.ok(lstatSync(join(out, 'top/fifo')).isFIFO());
    assert.ok(lstatSync(join(out, 'top/null')).isCharacterDevice());
    assert.equal(Number(lstatSync(join(out, 'top/null')).rdev), 259);
  }
});

test('tar headers: pax records for what ustar cannot hold', () => {
  const h = tarHeader({ path: Buffer.from('f'), type: 'file', mode: 0o644, uid: 3_000_000, gid: 1, uname: 'u'.repeat(40), mtimeNs: -1_500_000_000n, size: 9 * 2 ** 30 });
  const pax = h.subarray(512, 1024).toString('latin1');
  assert.match(pax, /\d+ size=9663676416\n/);
  assert.match(pax, /\d+ uid=3000000\n/);
  assert.match(pax, /\d+ uname=u{40}\n/);
  assert.match(pax, /\d+ mtime=-1\.5\n/);
  for (const rec of pax.replace(/\0+$/, '').split(/(?<=\n)/)) assert.equal(Buffer.byteLength(rec), Number(rec.split(' ')[0]), `record length of ${rec}`);
  assert.deepEqual(splitDev(259n), { major: 1, minor: 3 });
});

const py = (script: string, file: string): string => execFileSync('python3', ['-c', script, file], { encoding: 'utf8' });

test('zip: python zipfile and unzip read it (modes, symlinks, deflate and stored)', async () => {
  const file = join(tmp, 'a.zip');
  const { skipped } = await dumpTo('zip', file);
  assert.deepEqual(skipped.sort(), ['top/fifo', 'top/null', 'top/sock']);
  const out = py(
    `import sys, zipfile, stat, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.compress_type, stat.filemode(i.external_attr >> 16), i.file_size, len(z.read(i))] for i in z.infolist()}))`,
    file,
  );
  const info = JSON.parse(out) as Record<string, [number, string, number, number]>;
  assert.deepEqual(info['top/'], [0, 'drwxr-xr-x', 0, 0]);
  assert.deepEqual(info['top/text.txt'], [8, '-rw-r-----', 6000, 6000], 'text is deflated');
  assert.deepEqual(info['top/big.bin'], [0, '-rw-r--r--', 300_000, 300_000], 'random data is stored');
  assert.deepEqual(info['top/link'], [0, 'lrwxrwxrwx', 8, 8]);
  assert.deepEqual(info[`top/${LONG}`], [0, '-rw-r--r--', 4, 4], 'too small to shrink: stored');
  if (spawnSync('unzip', ['-v']).status === 0) {
    const t = spawnSync('unzip', ['-t', file], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stdout + t.stderr);
  }
});

test('zip64: entries with zip64 sizes and more than 65,535 entries', async () => {
  const file = join(tmp, 'z64.zip');
  const parts: Buffer[] = [];
  const sink: ByteSink = async (c) => void parts.push(Buffer.from(c));
  const z = new ZipWriter(sink, { zip64At: 10 });
  await z.add({ name: Buffer.from('a.txt'), mode: 0o100644, mtimeNs: 1700000000000000000n, uid: 0, gid: 0 }, 26, Buffer.from('abcdefghijklmnopqrstuvwxyz'));
  for (let i = 0; i < 70_000; i++) await z.add({ name: Buffer.from(`e/${i}`), mode: 0o100600, mtimeNs: 0n, uid: 0, gid: 0 }, 1, Buffer.from('x'), { compress: 'store' });
  await z.finish();
  writeFileSync(file, Buffer.concat(parts));
  const out = py(
    `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(len(z.infolist()), z.read('a.txt').decode(), z.read('e/69999').decode())`,
    file,
  );
  assert.equal(out.trim(), '70001 abcdefghijklmnopqrstuvwxyz x');
});
