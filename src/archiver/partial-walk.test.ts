import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Archiver } from './archiver.ts';
import { parentFits } from './partial-walk.ts';
import { backupPaths, listFsTree, listSnapshotTree, memRepository, nodeAt } from './test-backup.ts';

function makeTree(): string {
  const src = mkdtempSync(join(tmpdir(), 'pyb-partial-'));
  for (const d of ['a/a1', 'a/a2', 'b', 'c/deep/deeper']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'a/a1/f'), 'f1');
  writeFileSync(join(src, 'a/a2/g'), 'g1');
  writeFileSync(join(src, 'b/h'), 'h1');
  writeFileSync(join(src, 'c/deep/deeper/x'), 'x1');
  writeFileSync(join(src, 'top'), 'top1');
  return src;
}

test('a partial backup walks only the changed paths and reuses the parent subtrees elsewhere', async (t) => {
  const r = await memRepository();
  const src = makeTree();
  t.after(async () => {
    await r.close();
    rmSync(src, { recursive: true, force: true });
  });
  const s1 = await backupPaths(r.repo, [src]);
  const sub = async (snap: { tree: string }, rel: string): Promise<string | undefined> => (await nodeAt(r.repo, snap, `${src}/${rel}`))?.subtree;

  // a file rewritten in place: only its directory (and the ones above) are walked
  writeFileSync(join(src, 'a/a1/f'), 'f2-longer');
  // a new subdirectory and a removed one, each announced by its parent directory
  mkdirSync(join(src, 'b/new/inner'), { recursive: true });
  writeFileSync(join(src, 'b/new/inner/n'), 'n1');
  rmSync(join(src, 'c/deep'), { recursive: true });
  // a change nobody announced, in a directory that is not walked: it stays as in the parent (rescans catch it)
  appendFileSync(join(src, 'a/a2/g'), '-unannounced');
  const s2 = await backupPaths(r.repo, [src], { parent: s1, onlyChanged: { parent: s1, dirs: new Set([`${src}/a/a1`, `${src}/b`, `${src}/c`]) } });

  assert.equal(await sub(s2, 'a/a2'), await sub(s1, 'a/a2'), 'unchanged sibling reused');
  assert.notEqual(await sub(s2, 'a/a1'), await sub(s1, 'a/a1'));
  assert.notEqual(await sub(s2, 'b'), await sub(s1, 'b'));
  assert.equal(await nodeAt(r.repo, s2, `${src}/c/deep`), undefined, 'removed subtree gone');
  const expected = listFsTree(src);
  expected.set('a/a2/g', 'file:g1');
  assert.deepEqual(await listSnapshotTree(r.repo, s2, src), expected);
  assert.equal(s2.summary?.dirsUnmodified, 1, 'a2 reused');

  // an entry added to a directory whose parent is walked is found through the directory's changed mtime
  writeFileSync(join(src, 'a/a2/added'), 'added');
  const s3 = await backupPaths(r.repo, [src], { parent: s2, onlyChanged: { parent: s2, dirs: new Set([`${src}/a`]) } });
  assert.equal((await listSnapshotTree(r.repo, s3, src)).get('a/a2/added'), 'file:added');
  // and a full backup afterwards sees everything, the unannounced change included
  const s4 = await backupPaths(r.repo, [src]);
  assert.deepEqual(await listSnapshotTree(r.repo, s4, src), listFsTree(src));
});

test('a changed source root and an empty change set', async (t) => {
  const r = await memRepository();
  const src = makeTree();
  t.after(async () => {
    await r.close();
    rmSync(src, { recursive: true, force: true });
  });
  const s1 = await backupPaths(r.repo, [src]);
  writeFileSync(join(src, 'top'), 'top2');
  const s2 = await backupPaths(r.repo, [src], { onlyChanged: { parent: s1, dirs: new Set([src]) } });
  assert.deepEqual(await listSnapshotTree(r.repo, s2, src), listFsTree(src));
  for (const d of ['a', 'b', 'c']) assert.equal((await nodeAt(r.repo, s2, `${src}/${d}`))?.subtree, (await nodeAt(r.repo, s1, `${src}/${d}`))?.subtree);
  // nothing announced: the source directory itself is reused whole
  const s3 = await backupPaths(r.repo, [src], { onlyChanged: { parent: s2, dirs: new Set() } });
  assert.equal((await nodeAt(r.repo, s3, src))?.subtree, (await nodeAt(r.repo, s2, src))?.subtree);
});

test('parentFits compares the source path sets', () => {
  assert.ok(parentFits({ paths: ['/b', '/a'] }, ['/a', '/b']));
  assert.ok(!parentFits({ paths: ['/a'] }, ['/a', '/b']));
  assert.ok(!parentFits({ paths: ['/a', '/c'] }, ['/a', '/b']));
});

test('skipIfUnchanged saves no snapshot when the root tree equals the parent', async (t) => {
  const r = await memRepository();
  const src = makeTree();
  t.after(async () => {
    await r.close();
    rmSync(src, { recursive: true, force: true });
  });
  const s1 = await backupPaths(r.repo, [src]);
  // the root tree records the directories above the source (/tmp changes whenever anyone makes a temp file): retry
  let skipped = false;
  for (let i = 0; i < 5 && !skipped; i++) {
    const p = await backupPaths(r.repo, [src]);
    const again = await new Archiver(r.repo, { hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test', workers: 1, xattrs: false, paths: [src], parent: p, skipIfUnchanged: true }).run();
    skipped = again.id === undefined;
  }
  assert.ok(skipped, 'an unchanged backup was skipped');
  writeFileSync(join(src, 'top'), 'changed');
  const changed = await new Archiver(r.repo, { hostname: 'h', username: 'u', uid: 0, gid: 0, programVersion: 'test', workers: 1, xattrs: false, paths: [src], parent: s1, skipIfUnchanged: true }).run();
  assert.ok(changed.id);
});
