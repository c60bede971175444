import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemBackend } from '../backend/mem/mem-backend.ts';
import { AppendOnlyError, appendOnlyGuard } from './append-only.ts';
import { LocalBackend } from '../backend/local/local-backend.ts';
import { parseConfig } from './config.ts';
import { Repository } from './repository.ts';

const kdf = { memory: 8192, passes: 1, parallelism: 1 };

test('append-only: saves and lock removal work, every other removal is refused, and the mode can be turned off', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-ao-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const b = new MemBackend();
  const repo = await Repository.init(b, 'pw', { kdf, appendOnly: true, catalogPath: join(dir, 'c1.db') });
  await repo.close();

  const ro = await Repository.open(b, 'pw', { catalogPath: join(dir, 'c2.db') });
  assert.equal(ro.config.appendOnly, true);
  const snap = await ro.saveFile('snapshot', Buffer.from('{}'));
  const lock = await ro.saveFile('lock', Buffer.from('{}'));
  await ro.backend.remove({ type: 'lock', name: lock });
  for (const type of ['snapshot', 'index', 'pack', 'key'] as const) {
    await assert.rejects(ro.backend.remove({ type, name: snap }), (e: unknown) => e instanceof AppendOnlyError && /append-only/.test(e.message));
  }
  await assert.rejects(ro.backend.remove({ type: 'config', name: '' }), AppendOnlyError);
  assert.throws(() => ro.assertMayDelete('forget'), /append-only: forget would delete/);
  assert.ok(await b.stat({ type: 'snapshot', name: snap }), 'nothing was removed');
  const off = await ro.updateConfig({ appendOnly: false });
  assert.equal(off.appendOnly, false);
  await ro.close();

  const rw = await Repository.open(b, 'pw', { catalogPath: join(dir, 'c3.db') });
  assert.equal(rw.config.appendOnly, false);
  assert.equal(rw.config.id, off.id, 'the same repository after the config rewrite');
  rw.assertMayDelete('forget');
  await rw.backend.remove({ type: 'snapshot', name: snap });
  await rw.close();
});

test('a config without appendOnly (older writers) parses as not append-only; a non-boolean is refused', () => {
  const base = { version: 1, id: 'a'.repeat(64), chunker: { min: 512, avg: 1024, max: 4096 }, compression: 1, packSize: 1 << 24 };
  assert.equal(parseConfig(JSON.stringify(base)).appendOnly, false);
  assert.equal(parseConfig(JSON.stringify({ ...base, appendOnly: true })).appendOnly, true);
  assert.throws(() => parseConfig(JSON.stringify({ ...base, appendOnly: 1 })), /bad appendOnly/);
});

test('the append-only guard keeps a local backend\'s localPath (readers of packs still read the files directly)', () => {
  const local = new LocalBackend('/srv/repo');
  const h = { type: 'pack', name: 'ab'.repeat(32) } as const;
  assert.equal(appendOnlyGuard(local).localPath?.(h), local.localPath(h));
  assert.equal(appendOnlyGuard(new MemBackend()).localPath, undefined);
});
