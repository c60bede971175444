import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdtempSync, openSync, readSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { newMasterKey } from '../crypto/master-key.ts';
import type { Node } from '../model/node.ts';
import { ffiAvailable, setTimesNs, setXattr } from '../platform/libc.ts';
import { checkRestoredEntry, contentIds, createContentChecker } from './drill-verify.ts';

function flipByteForTest(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = (b[0] ?? 0) ^ 1;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

const checker = createContentChecker({ config: { chunker: { min: 256, avg: 1024, max: 4096 } } as never, key: newMasterKey() });

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'pybackup-drill-verify-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A node describing `path` as it is now (what a backup would record). */
async function nodeOf(path: string): Promise<Node> {
  const st = lstatSync(path, { bigint: true });
  const base = { name: 'x', mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtime: String(st.mtimeNs), atime: String(st.atimeNs), ctime: String(st.ctimeNs) };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkTarget: 'target' };
  return { ...base, type: 'file', size: Number(st.size), content: (await contentIds(Buffer.from(path), checker)).ids };
}

test('an intact file passes; content, size, mode and mtime changes are each reported', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'f');
  writeFileSync(p, randomBytes(20_000));
  const node = await nodeOf(p);
  assert.ok((node.content?.length ?? 0) > 3, 'several chunks');
  assert.deepEqual(await checkRestoredEntry(Buffer.from(p), node, checker), { problems: [], notes: [] });

  const mtime = BigInt(node.mtime);
  flipByteForTest(p, 15_000);
  setTimesNs(p, undefined, mtime, true);
  const flipped = await checkRestoredEntry(Buffer.from(p), node, checker);
  assert.equal(flipped.problems.length, 1, flipped.problems.join('; '));
  assert.match(flipped.problems[0] ?? '', /^content: chunk \d+ of \d+ \(at byte \d+\) differs/);

  truncateSync(p, 19_000);
  chmodSync(p, 0o600);
  setTimesNs(p, undefined, mtime + 1n, true);
  const r = await checkRestoredEntry(Buffer.from(p), { ...node, mode: 0o644 }, checker);
  const text = r.problems.join('\n');
  assert.match(text, /size: 19000 bytes, the snapshot records 20000/);
  assert.match(text, /content: /);
  assert.match(text, /mode: 0600, the snapshot records 0644/);
  assert.match(text, new RegExp(`mtime: ${mtime + 1n} ns, the snapshot records ${mtime} ns`));
});

test('missing entries, wrong types and wrong symlink targets are reported', async (t) => {
  const d = tempDir(t);
  const link = join(d, 'l');
  symlinkSync('target', link);
  const node = await nodeOf(link);
  assert.deepEqual((await checkRestoredEntry(Buffer.from(link), node, checker)).problems, []);
  const other = join(d, 'l2');
  symlinkSync('elsewhere', other);
  setTimesNs(other, undefined, BigInt(node.mtime), false);
  assert.deepEqual((await checkRestoredEntry(Buffer.from(other), node, checker)).problems, ['symlink target: "elsewhere", the snapshot records "target"']);
  assert.deepEqual((await checkRestoredEntry(Buffer.from(join(d, 'nope')), node, checker)).problems, ['missing from the restore']);
  writeFileSync(join(d, 'f'), '');
  assert.deepEqual((await checkRestoredEntry(Buffer.from(join(d, 'f')), node, checker)).problems, ['type: restored a file, the snapshot records a symlink']);
});

test('user extended attributes must match', { skip: !ffiAvailable() && 'node:ffi unavailable' }, async (t) => {
  const d = tempDir(t);
  const p = join(d, 'f');
  writeFileSync(p, 'data');
  try {
    setXattr(p, 'user.probe', Buffer.from('1'));
  } catch {
    t.skip('no user xattrs on this filesystem');
    return;
  }
  const node = await nodeOf(p);
  const xa = (name: string, value: string): { name: string; value: string } => ({ name: Buffer.from(name).toString('base64'), value: Buffer.from(value).toString('base64') });
  const mtime = BigInt(node.mtime);
  const check = async (xattrs: { name: string; value: string }[]): Promise<string[]> => {
    setTimesNs(p, undefined, mtime, true);
    return (await checkRestoredEntry(Buffer.from(p), { ...node, xattrs }, checker)).problems;
  };
  assert.deepEqual(await check([xa('user.probe', '1')]), []);
  assert.deepEqual(await check([xa('user.probe', '2')]), ['xattr user.probe: value differs']);
  assert.deepEqual(await check([xa('user.probe', '1'), xa('user.gone', 'x')]), ['xattr user.gone: missing']);
  assert.deepEqual(await check([]), ['xattr user.probe: not in the snapshot']);
});
