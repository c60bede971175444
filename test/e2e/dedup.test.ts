/**
 * 2. Content-defined deduplication: a 1-byte insertion costs only the chunks around it; the same data under another
 * name costs nothing. 3. Nothing of the source (names, contents) is stored in plaintext.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setXattr } from '../../src/platform/libc.ts';
import { Sandbox, assertExit, writeRandomFile } from './helpers.ts';

test('dedup: a 1-byte insertion adds at most 3 data blobs; a copy under another name adds none', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  const file = join(sb.src, 'big.bin');
  writeRandomFile(file, 64 << 20);

  const first = await sb.backup([sb.src]);
  assert.equal(first.files_new, 1);
  assert.ok(first.data_blobs >= 8, `64 MiB in ~1 MiB chunks is many blobs (got ${first.data_blobs})`);
  assert.ok(first.data_added >= 64 << 20, `first backup stores all data (data_added ${first.data_added})`);

  // insert one byte at offset 1000
  const orig = readFileSync(file);
  writeFileSync(file, Buffer.concat([orig.subarray(0, 1000), Buffer.from([0x42]), orig.subarray(1000)]));
  const second = await sb.backup([sb.src]);
  t.diagnostic(`first: ${first.data_blobs} data blobs, ${first.data_added} bytes; after a 1-byte insertion: ${second.data_blobs} data blobs, ${second.data_added} bytes`);
  assert.equal(second.files_changed + second.files_new, 1, 'the modified file is re-read');
  assert.ok(second.data_blobs >= 1 && second.data_blobs <= 3, `insertion adds 1-3 data blobs, got ${second.data_blobs}`);
  assert.ok(second.data_added <= 24 << 20, `insertion adds at most a few chunks of data, got ${second.data_added} bytes`);

  // the same bytes under another name (and in another directory) add no data
  mkdirSync(join(sb.src, 'other'));
  copyFileSync(file, join(sb.src, 'other', 'copy-of-big.bin'));
  const third = await sb.backup([sb.src]);
  assert.equal(third.files_new, 1);
  assert.equal(third.data_blobs, 0, 'a copy adds no data blobs');

  // a fresh directory with the same content, backed up as a different path, adds no data either
  const elsewhere = sb.path('elsewhere');
  mkdirSync(elsewhere);
  copyFileSync(file, join(elsewhere, 'renamed.dat'));
  const fourth = await sb.backup([elsewhere]);
  assert.equal(fourth.data_blobs, 0);

  // and all four snapshots restore what was backed up last
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target, '--path', elsewhere]), 0, 'restore');
  assert.equal(statSync(join(target, elsewhere, 'renamed.dat')).size, (64 << 20) + 1);
  assert.ok(readFileSync(join(target, elsewhere, 'renamed.dat')).equals(readFileSync(file)));
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

test('no plaintext file names or contents in the repository', async (t) => {
  const sb = await Sandbox.create(t);
  const tag = randomBytes(6).toString('hex');
  const markers = {
    dirName: `DIRMARK${tag}`,
    fileName: `NAMEMARK${tag}.txt`,
    text: `TEXTMARK${tag}`,
    random: `RANDMARK${tag}`,
    symlink: `LINKMARK${tag}`,
    xname: `XNAMEMARK${tag}`,
    xvalue: `XVALMARK${tag}`,
  };
  mkdirSync(join(sb.src, markers.dirName), { recursive: true });
  // compressible: the marker repeated in text
  writeFileSync(join(sb.src, markers.dirName, markers.fileName), `${markers.text} is a line of text.\n`.repeat(20000));
  // incompressible: random data with the marker embedded
  const rnd = randomBytes(3 << 20);
  Buffer.from(markers.random).copy(rnd, 1 << 20);
  writeFileSync(join(sb.src, 'random.bin'), rnd);
  // small file (its own tiny blob)
  writeFileSync(join(sb.src, 'tiny'), markers.text);
  symlinkSync(`/some/where/${markers.symlink}`, join(sb.src, 'link'));
  setXattr(join(sb.src, 'tiny'), `user.${markers.xname}`, Buffer.from(markers.xvalue));

  await sb.backup([sb.src, '--tag', 'plain-tag']);
  await sb.backup([sb.src]);

  const needles = Object.values(markers).map((m) => Buffer.from(m));
  const hits: string[] = [];
  const files = filesUnder(sb.repo);
  assert.ok(files.length >= 5, 'repository has config, key, packs, index, snapshots');
  for (const f of files) {
    const data = readFileSync(f);
    for (const n of needles) if (data.includes(n)) hits.push(`${f}: ${n.toString()}`);
  }
  assert.deepEqual(hits, [], 'no marker may appear in plaintext');
});

test('the local catalog is only a cache: delete it and nothing is stored twice', async (t) => {
  const sb = await Sandbox.create(t);
  mkdirSync(sb.src);
  writeRandomFile(join(sb.src, 'a.bin'), 4 << 20);
  writeFileSync(join(sb.src, 'b.txt'), 'bee');
  await sb.backup([sb.src]);
  rmSync(sb.cache, { recursive: true, force: true });
  const again = await sb.backup([sb.src]);
  assert.equal(again.files_unmodified, 0, 'without the files cache every file is read again');
  assert.equal(again.data_blobs, 0, 'the blob index is rebuilt from the repository: no data stored twice');
  // a corrupt catalog file is no worse than a missing one
  const target = sb.path('target');
  assertExit(await sb.cli(['restore', 'latest', '--target', target, '--verify']), 0, 'restore without the old catalog');
  assert.ok(readFileSync(join(target, sb.src, 'a.bin')).equals(readFileSync(join(sb.src, 'a.bin'))));
});
