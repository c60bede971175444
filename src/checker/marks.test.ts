import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMark } from '../repository/mark-format.ts';
import { PackBuilder } from '../repository/pack-format.ts';
import { encodePayload } from '../repository/payload.ts';
import { makeFixture } from '../repair/test-fixture.ts';
import { runCheck } from './checker.ts';
import type { Finding } from './events.ts';

async function check(repo: Parameters<typeof runCheck>[0]): Promise<{ findings: Finding[]; errors: number; brokenPacks: readonly string[] }> {
  const findings: Finding[] = [];
  const s = await runCheck(repo, { onEvent: (e) => e.type === 'finding' && findings.push(e.finding) });
  return { findings, errors: s.errors, brokenPacks: s.brokenPacks };
}

test('check understands marks: a marked pack in use is a warning, a swept pack still indexed is information, a mark is no index file', async () => {
  const f = await makeFixture();
  // a pack that a prune marked and already deleted, while an index file still lists it (an interrupted sweep)
  const gone = new PackBuilder(f.repo.sealer);
  gone.addPayload(Buffer.alloc(32, 9), 'data', encodePayload(Buffer.from('unused'), { level: 0 }), 6);
  const g = gone.finish();
  await f.repo.savePack(g);
  await f.repo.flushIndex();
  await f.backend.remove({ type: 'pack', name: g.id });
  // ... and a mark on the data pack, which the snapshot uses (a backup used it while it was marked)
  await f.repo.saveFile('index', encodeMark({ time: Date.now(), packs: [g.id, f.dataPack], restated: [] }));

  const r = await check(f.repo);
  assert.equal(r.errors, 0, JSON.stringify(r.findings, null, 1));
  assert.deepEqual(r.brokenPacks, []);
  assert.ok(!r.findings.some((x) => x.code === 'index-unreadable'), 'the mark file is not an unreadable index file');
  const missing = r.findings.find((x) => x.code === 'pack-missing');
  assert.equal(missing?.severity, 'info');
  assert.equal(missing?.pack, g.id);
  const inUse = r.findings.find((x) => x.code === 'pack-marked-in-use');
  assert.equal(inUse?.severity, 'warning');
  assert.equal(inUse?.pack, f.dataPack);
  assert.equal(inUse?.blobCount, 3);
  await f.done();
});
