import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMark } from '../repository/mark-format.ts';
import { repairIndex } from './repair-index.ts';
import { makeFixture, names, recorder } from './test-fixture.ts';

test('repair index keeps prune mark files: they are neither unreadable index files nor replaced', async () => {
  const f = await makeFixture();
  const [index] = await names(f.backend, 'index');
  const mark = await f.repo.saveFile('index', encodeMark({ time: Date.now(), packs: [f.dataPack], restated: [] }));
  // lose the real index file, so that the index is rebuilt from the pack headers
  await f.backend.remove({ type: 'index', name: index! });
  const r = recorder();
  const s = await repairIndex(f.repo, { onEvent: r.onEvent });
  assert.equal(s.plan.unreadableIndexFiles, 0);
  assert.equal(s.plan.indexFiles, 0, 'the mark is not counted as an index file');
  assert.equal(s.plan.fromHeaders, 2);
  assert.ok(s.plan.changed);
  const after = await names(f.backend, 'index');
  assert.ok(after.includes(mark), 'the mark survives');
  assert.equal(after.length, 2);
  assert.ok(!r.events.some((e) => e.type === 'problem'));
  await f.done();
});
