import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidInputError, UsageError } from '../errors.ts';
import { goGlob, readFilesFrom } from './files-from.ts';

async function withTree(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'pyb-ff-'));
  try {
    for (const d of ['docs', 'docs/sub', 'src', 'src/.git']) await mkdir(join(root, d));
    for (const f of ['docs/a.txt', 'docs/b.txt', 'docs/.hidden.txt', 'docs/c.md', 'docs/sub/d.txt', 'src/main.c', 'x{1,2}', 'x1', 'has space.txt']) {
      await writeFile(join(root, f), f);
    }
    await symlink(join(root, 'missing-target'), join(root, 'dangling'));
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('--files-from: comments, blanks, trimming and Go-style glob expansion', () =>
  withTree(async (root) => {
    const list = join(root, 'list');
    await writeFile(list, [`# comment`, ``, `  ${root}/docs/*.txt  `, `${root}/src`, `${root}/x{1,2}`, `${root}/*/sub`, `${root}/has space.txt`, `${root}/dangling`, `${root}/nothing-*`, `${root}/gone`, `   # indented comment`].join('\r\n'));
    const warnings: string[] = [];
    const got = await readFilesFrom(list, 'lines', { warn: (w) => warnings.push(w) });
    assert.deepEqual(got, [
      `${root}/docs/.hidden.txt`,
      `${root}/docs/a.txt`,
      `${root}/docs/b.txt`,
      `${root}/src`,
      `${root}/x{1,2}`,
      `${root}/docs/sub`,
      `${root}/has space.txt`,
      `${root}/dangling`,
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /:9: pattern ".*nothing-\*" does not match any files, skipping/);
    assert.match(warnings[1] ?? '', /:10: pattern ".*gone" does not match/);
  }));

test('--files-from: malformed glob is a UsageError with file and line; missing file is InvalidInputError', () =>
  withTree(async (root) => {
    const list = join(root, 'list');
    await writeFile(list, `${root}/docs\n${root}/docs/[a\n`);
    await assert.rejects(readFilesFrom(list, 'lines'), (e: unknown) => e instanceof UsageError && e.message.startsWith(`--files-from ${list}:2: invalid pattern`));
    await assert.rejects(readFilesFrom(join(root, 'nope'), 'lines'), (e: unknown) => e instanceof InvalidInputError && e.message.includes('no such file'));
    await assert.rejects(readFilesFrom(join(root, 'nope'), 'raw'), (e: unknown) => e instanceof InvalidInputError && e.message.startsWith('--files-from-raw'));
    await writeFile(list, Buffer.from([0x2f, 0xff, 0x0a]));
    await assert.rejects(readFilesFrom(list, 'verbatim'), (e: unknown) => e instanceof InvalidInputError && e.message.includes('line 1 is not valid UTF-8'));
  }));

test('--files-from-verbatim: lines as they are, only empty lines skipped', () =>
  withTree(async (root) => {
    const list = join(root, 'list');
    await writeFile(list, `\uFEFF# not a comment\n  spaced  \n\n${root}/docs/*.txt\r\nlast`);
    assert.deepEqual(await readFilesFrom(list, 'verbatim'), ['# not a comment', '  spaced  ', `${root}/docs/*.txt`, 'last']);
  }));

test('--files-from-raw: NUL-terminated names, trailing NUL required, no empty names', () =>
  withTree(async (root) => {
    const list = join(root, 'list');
    await writeFile(list, 'a b\nc\0/x/*\0# kept\0');
    assert.deepEqual(await readFilesFrom(list, 'raw'), ['a b\nc', '/x/*', '# kept']);
    await writeFile(list, '');
    assert.deepEqual(await readFilesFrom(list, 'raw'), []);
    await writeFile(list, 'a\0b');
    await assert.rejects(readFilesFrom(list, 'raw'), (e: unknown) => e instanceof InvalidInputError && e.message.includes('trailing NUL'));
    await writeFile(list, 'a\0\0');
    await assert.rejects(readFilesFrom(list, 'raw'), (e: unknown) => e instanceof InvalidInputError && e.message.includes('empty file name'));
    await writeFile(list, Buffer.from([0x61, 0, 0xff, 0]));
    await assert.rejects(readFilesFrom(list, 'raw'), (e: unknown) => e instanceof InvalidInputError && e.message.includes('entry 2 is not valid UTF-8'));
  }));

test('"-" reads standard input', async () => {
  assert.deepEqual(await readFilesFrom('-', 'verbatim', { stdin: Readable.from([Buffer.from('/a\n/b'), Buffer.from('c\n')]) }), ['/a', '/bc']);
  assert.deepEqual(await readFilesFrom('-', 'raw', { stdin: Readable.from([Buffer.from('/a\0/b\0')]) }), ['/a', '/b']);
});

test('goGlob: relative patterns, meta in directories, escapes, non-UTF-8 names skipped with a warning', () =>
  withTree(async (root) => {
    const prev = process.cwd();
    process.chdir(root);
    try {
      assert.deepEqual(await goGlob('docs/?.txt', 't'), ['docs/a.txt', 'docs/b.txt']);
      assert.deepEqual(await goGlob('./docs/[^a].*', 't'), ['docs/b.txt', 'docs/c.md']);
      assert.deepEqual(await goGlob('*/*.txt', 't'), ['docs/.hidden.txt', 'docs/a.txt', 'docs/b.txt']);
      assert.deepEqual(await goGlob('*/.*', 't'), ['docs/.hidden.txt', 'src/.git']);
      assert.deepEqual(await goGlob('x\\{1,2}', 't'), ['x{1,2}']);
      assert.deepEqual(await goGlob('x[1]', 't'), ['x1']);
      const top = await goGlob('/*', 't');
      assert.ok(top.length > 0 && top.every((p) => /^\/[^/]+$/.test(p)), 'absolute patterns give absolute, cleaned paths');
      assert.deepEqual(await goGlob('src/main.c/*', 't'), []);
      await writeFile(Buffer.concat([Buffer.from(`${root}/docs/`), Buffer.from([0xff]), Buffer.from('.txt')]), '');
      const warnings: string[] = [];
      assert.deepEqual(await goGlob('docs/*.txt', 't', (w) => warnings.push(w)), ['docs/.hidden.txt', 'docs/a.txt', 'docs/b.txt']);
      assert.equal(warnings.length, 1);
    } finally {
      process.chdir(prev);
    }
  }));
