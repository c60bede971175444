/**
 * 9. A hostile snapshot (built with the internal API) never makes restore write outside --target: bad names are
 * refused and reported, symlinks in the snapshot or planted in the target are never followed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { BlobSaver } from '../../src/archiver/blob-saver.ts';
import type { Node } from '../../src/model/node.ts';
import { saveSnapshot } from '../../src/repository/snapshots.ts';
import { Sandbox, allPaths, assertNoStackTrace, describe, listFiles } from './helpers.ts';

const NOW = (BigInt(Date.now()) * 1_000_000n).toString();

function node(name: string, type: Node['type'], extra: Partial<Node> = {}): Node {
  return { name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: NOW, atime: NOW, ctime: NOW, ...extra };
}

/** Saves a hostile snapshot of "/evil"; returns its id. */
async function buildEvilSnapshot(sb: Sandbox, outside: string, tag: string, restoredEvil: string): Promise<string> {
  const repo = await sb.open();
  try {
    const saver = new BlobSaver(repo, { dryRun: false });
    const data = await saver.save('data', Buffer.from('EVIL'));
    const file = (name: string, extra: Partial<Node> = {}): Node => node(name, 'file', { size: 4, content: [data.id], ...extra });
    const tree = async (nodes: Node[]): Promise<string> => (await saver.save('tree', Buffer.from(JSON.stringify({ nodes })))).id;
    const pwned = await tree([file(`pwned-${tag}`)]);
    const plantedDir = await tree([file(`through-planted-${tag}`)]);
    const evil = await tree([
      file('..'),
      file(`../escape-${tag}`),
      file(`/abs-${tag}`),
      file(`a/b-${tag}`),
      file('.'),
      file(''),
      file('nul\u0000byte'),
      file('innocent', { nameRaw: Buffer.from(`../raw-escape-${tag}`).toString('base64') }),
      file('dots', { nameRaw: Buffer.from('..').toString('base64') }),
      node('..', 'dir', { subtree: pwned }),
      node(`../dir-escape-${tag}`, 'dir', { subtree: pwned }),
      // a symlink to the outside, then a directory of the same name with a file in it
      node('link', 'symlink', { linkTarget: outside }),
      node('link', 'dir', { subtree: pwned }),
      node('link', 'file', { size: 4, content: [data.id] }),
      // the same with a relative link escaping the target
      node('rel', 'symlink', { linkTarget: relative(restoredEvil, outside) }),
      node('rel', 'dir', { subtree: pwned }),
      // entries where the target already holds symlinks pointing outside
      file('planted-file'),
      node('planted-dir', 'dir', { subtree: plantedDir }),
      file('good'),
    ]);
    const root = await tree([node('evil', 'dir', { subtree: evil })]);
    await saver.flush();
    await repo.flushIndex();
    return await saveSnapshot(repo, { time: new Date().toISOString(), tree: root, paths: ['/evil'], hostname: 'evil', username: 'evil', uid: 0, gid: 0, programVersion: 'evil' });
  } finally {
    await repo.close();
  }
}

test('restore of a hostile snapshot never writes outside the target', async (t) => {
  const sb = await Sandbox.create(t);
  const tag = randomBytes(4).toString('hex');
  const outside = sb.path('outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'original');
  const target = sb.path('target');
  const id = await buildEvilSnapshot(sb, outside, tag, join(target, 'evil'));

  // pre-existing symlinks inside the target, pointing outside
  mkdirSync(join(target, 'evil'), { recursive: true });
  symlinkSync(join(outside, 'victim.txt'), join(target, 'evil', 'planted-file'));
  symlinkSync(outside, join(target, 'evil', 'planted-dir'));

  const before = { outside: listFiles(outside), top: allPaths(sb.dir).filter((p) => !p.startsWith(target) && !p.includes('/cache/')) };
  const r = await sb.cli(['restore', id, '--target', target]);
  assert.equal(r.code, 1, `errors are reported with exit 1: ${describe(r)}`);
  assertNoStackTrace(r);
  for (const bad of ['escape', 'abs-', 'a/b', 'raw-escape', 'dir-escape']) assert.ok(r.stderr.includes(bad), `error names ${bad}: ${describe(r)}`);
  assert.match(r.stderr, /unsafe|refus/i);
  assert.match(r.stderr, /duplicate/i, 'the duplicate "link" entries are reported');

  // nothing changed outside the target
  assert.deepEqual(listFiles(outside), before.outside, 'the outside directory is untouched');
  assert.equal(readFileSync(join(outside, 'victim.txt'), 'utf8'), 'original');
  const after = allPaths(sb.dir).filter((p) => !p.startsWith(target) && !p.includes('/cache/'));
  assert.deepEqual(after, before.top, 'no new paths outside the target');
  for (const p of [`/abs-${tag}`, `/escape-${tag}`, `/tmp/escape-${tag}`, `/raw-escape-${tag}`, join(sb.dir, `escape-${tag}`), join(target, `escape-${tag}`), join(target, `raw-escape-${tag}`), join(target, `dir-escape-${tag}`), join(target, `pwned-${tag}`)]) {
    assert.equal(existsSync(p), false, `${p} must not exist`);
  }

  // inside: the good file, the symlinks as symlinks, planted links replaced by real entries
  const evil = join(target, 'evil');
  assert.equal(readFileSync(join(evil, 'good'), 'utf8'), 'EVIL');
  assert.ok(lstatSync(join(evil, 'link')).isSymbolicLink(), 'the first "link" entry wins and stays a symlink');
  assert.ok(lstatSync(join(evil, 'planted-file')).isFile(), 'the planted file symlink was replaced');
  assert.equal(readFileSync(join(evil, 'planted-file'), 'utf8'), 'EVIL');
  assert.ok(lstatSync(join(evil, 'planted-dir')).isDirectory(), 'the planted dir symlink was replaced');
  assert.equal(readFileSync(join(evil, 'planted-dir', `through-planted-${tag}`), 'utf8'), 'EVIL');
  assert.equal(existsSync(join(outside, `through-planted-${tag}`)), false);

  // restoring again over the result (now containing the "link" symlinks) is still contained
  const again = await sb.cli(['restore', id, '--target', target]);
  assert.equal(again.code, 1, describe(again));
  assertNoStackTrace(again);
  assert.deepEqual(listFiles(outside), before.outside);

  // a target whose top-level directory is a symlink to the outside
  const target2 = sb.path('target2');
  mkdirSync(target2);
  symlinkSync(outside, join(target2, 'evil'));
  const r2 = await sb.cli(['restore', id, '--target', target2]);
  assertNoStackTrace(r2);
  assert.deepEqual(listFiles(outside), before.outside, 'a symlinked directory in the target is not followed');
  assert.ok(lstatSync(join(target2, 'evil')).isDirectory());

  // subpath restore and --include/--exclude do not open a way out either
  const r3 = await sb.cli(['restore', `${id}:/evil`, '--target', sb.path('target3'), '--include', '*']);
  assertNoStackTrace(r3);
  assert.deepEqual(listFiles(outside), before.outside);
  assert.equal(existsSync(sb.path(`escape-${tag}`)), false);
});
