/**
 * Hostile repository contents: garbled (but validly encrypted) snapshots and index files, absurd counts and sizes
 * in index and pack headers, a config from a future version. Every command gives a clear error or a warning, never
 * a crash, a hang or a stack trace, and intact data stays usable.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../src/repository/ids.ts';
import { encodePayload } from '../../src/repository/payload.ts';
import { Sandbox, assertExit, assertNoStackTrace, describe, writeRandomFile } from './helpers.ts';
import { assertSameTree } from './tree-compare.ts';

const T = 60_000;

async function withRepo(sb: Sandbox, fn: (repo: Awaited<ReturnType<Sandbox['open']>>) => Promise<void>): Promise<void> {
  const repo = await sb.open();
  try {
    await fn(repo);
  } finally {
    await repo.close();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

async function seedRepo(t: Parameters<typeof Sandbox.create>[0]): Promise<{ sb: Sandbox; good: string }> {
  const sb = await Sandbox.create(t);
  mkdirSync(join(sb.src, 'd'), { recursive: true });
  writeRandomFile(join(sb.src, 'd', 'a.bin'), 300_000);
  writeFileSync(join(sb.src, 'small.txt'), 'hello');
  const s = await sb.backup([sb.src]);
  assert.ok(s.snapshot_id);
  return { sb, good: s.snapshot_id };
}

test('garbled snapshots (valid encryption, bad JSON or fields) give clear errors; the good snapshot still restores', { timeout: T * 3 }, async (t) => {
  const { sb, good } = await seedRepo(t);
  const bad: string[] = [];
  await withRepo(sb, async (repo) => {
    for (const text of [
      'not json at all',
      '[]',
      'null',
      '{"tree":123}',
      '{"time":"yesterday","tree":"zz","paths":"a","hostname":7}',
      `{"time":"2020-01-01T00:00:00Z","tree":"${'ab'.repeat(32)}","paths":["/x"],"hostname":"h","username":"u"}`,
      `{"time":"2020-01-01T00:00:00Z","tree":"${'ab'.repeat(32)}","paths":[${'"/x",'.repeat(50_000)}"/y"],"hostname":"h"}`,
    ]) {
      bad.push(await repo.saveFile('snapshot', Buffer.from(text)));
    }
  });
  const list = await sb.cli(['snapshots']);
  assertNoStackTrace(list, 'snapshots');
  assert.match(list.stdout, new RegExp(good.slice(0, 8)), `the good snapshot is listed: ${describe(list)}`);

  const target = sb.path('target');
  const r = await sb.cli(['restore', good.slice(0, 12), '--target', target]);
  assertExit(r, 0, 'restore of the good snapshot');
  assertSameTree(sb.src, join(target, sb.src), { skipRootTimes: true });

  for (const id of bad) {
    for (const args of [['restore', id, '--target', sb.path(`t-${id.slice(0, 6)}`)], ['cat', 'snapshot', id]]) {
      const x = await sb.cli(args, { timeoutMs: T });
      assertNoStackTrace(x, args.join(' '));
      if (args[0] === 'restore') assert.notEqual(x.code, 0, `restore of a garbled snapshot fails: ${describe(x)}`);
    }
  }
  const check = await sb.cli(['check'], { timeoutMs: T });
  assertNoStackTrace(check, 'check');
  assertExit(check, 1, 'check reports the garbled snapshots');
  for (const id of bad) assert.ok(check.stdout.includes(id.slice(0, 8)) || check.stderr.includes(id.slice(0, 8)), `check names snapshot ${id}: ${describe(check)}`);
  const next = await sb.backup([sb.src]);
  assert.equal(next.error_count, 0, "the next backup works");
});

test('garbled index files and absurd counts: a warning, data still restores, check names them', { timeout: T * 3 }, async (t) => {
  const { sb, good } = await seedRepo(t);
  const hugeCount = Buffer.concat([Buffer.from('PBI1'), u32(0xffffffff)]);
  const hugeBlobs = Buffer.concat([Buffer.from('PBI1'), u32(1), Buffer.alloc(32, 7), u32(0xffffffff)]);
  const trailing = Buffer.concat([Buffer.from('PBI1'), u32(0), Buffer.from('extra')]);
  const badType = Buffer.concat([Buffer.from('PBI1'), u32(1), Buffer.alloc(32, 7), u32(1), Buffer.from([9]), Buffer.alloc(44)]);
  const names: string[] = [];
  await withRepo(sb, async (repo) => {
    for (const plain of [Buffer.from('garbage'), hugeCount, hugeBlobs, trailing, badType, Buffer.alloc(0)]) names.push(await repo.saveFile('index', plain));
  });
  // an index file that is not even encrypted, named by its hash
  const raw = Buffer.from('definitely not sealed');
  writeFileSync(join(sb.repo, 'index', sha256Hex(raw)), raw);
  names.push(sha256Hex(raw));
  // a fresh catalog, so every index file is read again
  const fresh = { PYBACKUP_CACHE_DIR: sb.path('cache2') };
  const list = await sb.cli(['snapshots'], { env: fresh, timeoutMs: T });
  assertExit(list, 0, 'snapshots with damaged index files');
  assertNoStackTrace(list);
  assert.match(list.stderr, /index file .* damaged/, describe(list));

  const target = sb.path('target');
  const r = await sb.cli(['restore', good, '--target', target], { env: fresh, timeoutMs: T });
  assertExit(r, 0, 'restore');
  assertSameTree(sb.src, join(target, sb.src), { skipRootTimes: true });

  const check = await sb.cli(['check'], { env: fresh, timeoutMs: T });
  assertExit(check, 1, 'check');
  assertNoStackTrace(check);
  for (const n of names) assert.ok(check.stderr.includes(n.slice(0, 8)), `check names index ${n}: ${describe(check)}`);
  const b = await sb.cli(['backup', sb.src], { env: fresh, timeoutMs: T });
  assertExit(b, 0, 'backup with damaged index files present');
});

test('crafted packs with absurd header lengths and counts: check reports, no crash or hang', { timeout: T * 3 }, async (t) => {
  const { sb } = await seedRepo(t);
  const packs: Buffer[] = [
    Buffer.from([1, 2, 3]),
    Buffer.concat([Buffer.alloc(100, 1), u32(0xffffffff)]),
    Buffer.concat([Buffer.alloc(100, 1), u32(50)]),
    Buffer.concat([Buffer.alloc(100, 1), u32(0)]),
    u32(4),
  ];
  for (const p of packs) {
    const name = sha256Hex(p);
    mkdirSync(join(sb.repo, 'data', name.slice(0, 2)), { recursive: true });
    writeFileSync(join(sb.repo, 'data', name.slice(0, 2), name), p);
  }
  for (const args of [['check'], ['check', '--read-data']]) {
    const r = await sb.cli(args, { timeoutMs: T });
    assertNoStackTrace(r, args.join(' '));
    assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: ${describe(r)}`);
  }
  const b = await sb.cli(['backup', sb.src], { timeoutMs: T });
  assertExit(b, 0, 'backup next to crafted packs');
});

test('a config from a future version, garbled or with bad fields: a clear error', { timeout: T * 2 }, async (t) => {
  const { sb } = await seedRepo(t);
  let sealer: Awaited<ReturnType<Sandbox['open']>>['sealer'] | undefined;
  let config: Record<string, unknown> = {};
  await withRepo(sb, async (repo) => {
    sealer = repo.sealer;
    config = { ...repo.config };
  });
  assert.ok(sealer);
  const seal = (text: string): Buffer => Buffer.from(sealer!.seal(encodePayload(Buffer.from(text), { level: 0 }), Buffer.from('pybackup config')));
  const cases: [string, RegExp][] = [
    [JSON.stringify({ ...config, version: 99 }), /newer than this PyBackup supports.*upgrade/],
    ['{not json', /config is not valid JSON/],
    [JSON.stringify({ ...config, packSize: -1 }), /bad packSize/],
    [JSON.stringify({ ...config, appendOnly: 'yes' }), /bad appendOnly/],
    [JSON.stringify({ ...config, chunker: null }), /bad chunker/],
  ];
  for (const [text, match] of cases) {
    writeFileSync(join(sb.repo, 'config'), seal(text));
    for (const args of [['snapshots'], ['backup', sb.src], ['check']]) {
      const r = await sb.cli(args, { timeoutMs: T });
      assertNoStackTrace(r, args.join(' '));
      assertExit(r, 1, `${args[0]} with config ${text.slice(0, 40)}`);
      assert.match(r.stderr, match, describe(r));
    }
  }
  assert.deepEqual(readdirSync(join(sb.repo, 'locks')), [], 'no lock left behind');
});
