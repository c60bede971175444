import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { blobIdOf, newMasterKey } from '../crypto/master-key.ts';
import type { Node } from '../model/node.ts';
import { verifyFiles } from './verify.ts';

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

test('restore --verify (verifyFiles) reports files changed after they were written', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'pybackup-verify-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const key = newMasterKey();
  const chunks = [randomBytes(1000), randomBytes(500)];
  const ids = chunks.map((c) => blobIdOf(key.id, c).toString('hex'));
  const lengths = new Map(ids.map((id, i) => [id, chunks[i]!.length]));
  const repo = { key, catalog: { blob: (id: Uint8Array) => ({ rawLength: lengths.get(Buffer.from(id).toString('hex')) ?? 0 }) } } as never;
  const write = (name: string, data: Buffer): { path: Buffer; node: Node; size: number; content: string[]; failed: boolean; existing: boolean; freshDir: boolean } => {
    writeFileSync(join(d, name), data);
    return { path: Buffer.from(join(d, name)), node: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: '0', atime: '0', ctime: '0' }, size: 1500, content: ids, failed: false, existing: false, freshDir: true };
  };
  const good = write('good', Buffer.concat(chunks));
  const flipped = write('flipped', Buffer.concat(chunks));
  flipByteForTest(flipped.path.toString(), 1200);
  const longer = write('longer', Buffer.concat([...chunks, Buffer.from('x')]));
  const shorter = write('shorter', Buffer.concat(chunks).subarray(0, 1400));
  const missing = { ...good, path: Buffer.from(join(d, 'missing')) };
  const why = new Map<string, string>();
  const r = await verifyFiles(repo, [good, flipped, longer, shorter, missing], { onMismatch: (f, w) => why.set(f.path.toString(), w) });
  assert.deepEqual(r, { files: 5, failures: 4 });
  assert.equal(why.has(good.path.toString()), false);
  assert.equal(why.get(flipped.path.toString()), 'content differs at offset 1000');
  assert.equal(why.get(longer.path.toString()), 'file is longer than in the snapshot');
  assert.equal(why.get(shorter.path.toString()), 'content differs at offset 1000');
  assert.match(why.get(missing.path.toString()) ?? '', /ENOENT/);
});
