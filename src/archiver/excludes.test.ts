import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidInputError, UsageError } from '../errors.ts';
import { CACHEDIR_TAG_SIGNATURE, createExcludeMatcher } from './excludes.ts';
import type { DirRules, ExcludeMatcher, ExcludeOptions } from './excludes.ts';

const SLASH = Buffer.from('/');

/** Creates files (string content) and directories (null) below a fresh temp dir. */
async function tree(spec: Record<string, string | Buffer | null>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pyb-excl-'));
  for (const [rel, content] of Object.entries(spec)) {
    const p = join(root, rel);
    if (content === null) await mkdir(p, { recursive: true });
    else {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
    }
  }
  return root;
}

/** Walks like the archiver does and returns the kept entries relative to root ("dir/" for directories). */
async function walk(root: string, m: ExcludeMatcher): Promise<string[]> {
  const out: string[] = [];
  const rootBuf = Buffer.from(root);
  assert.equal(m.isExcluded(m.rootRules(), rootBuf, Buffer.from(root.split('/').pop() ?? ''), true, 0), false);
  const visit = async (dir: Buffer, rules: DirRules, rel: string): Promise<void> => {
    const names = await readdir(dir, { encoding: 'buffer' });
    names.sort(Buffer.compare);
    const child = m.empty ? rules : await m.enterDir(dir, names, rules);
    for (const n of names) {
      const p = Buffer.concat([dir, SLASH, n]);
      const st = await lstat(p);
      if (!m.empty && m.isExcluded(child, p, n, st.isDirectory(), st.size)) continue;
      const r = rel + n.toString('utf8');
      if (st.isDirectory()) {
        out.push(`${r}/`);
        await visit(p, child, `${r}/`);
      } else out.push(r);
    }
  };
  await visit(rootBuf, m.rootRules(), '');
  return out;
}

async function kept(spec: Record<string, string | Buffer | null>, o: (root: string) => ExcludeOptions): Promise<string[]> {
  const root = await tree(spec);
  try {
    return await walk(root, await createExcludeMatcher(o(root)));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const BASIC = {
  'a.c': 'x',
  'a.o': 'x',
  'src/main.c': 'x',
  'src/main.o': 'x',
  'src/foo/x.c': 'x',
  'foo': 'file named foo',
  'home/ann/cache/big': 'x',
  'home/ann/keep/cache/small': 'x',
  'home/bob/cache/big': 'x',
  'deep/foo/bar/z': 'x',
  'deep/bar/z': 'x',
};

test('no options: empty matcher keeps everything', async () => {
  const m = await createExcludeMatcher({});
  assert.equal(m.empty, true);
  const got = await kept({ 'a/b': 'x', '.hidden': 'y' }, () => ({}));
  assert.deepEqual(got, ['.hidden', 'a/', 'a/b']);
});

test('unanchored patterns match a name anywhere, files and dirs alike', async () => {
  const got = await kept(BASIC, () => ({ patterns: ['*.o', 'foo'] }));
  assert.deepEqual(got, [
    'a.c',
    'deep/',
    'deep/bar/',
    'deep/bar/z',
    'home/',
    'home/ann/',
    'home/ann/cache/',
    'home/ann/cache/big',
    'home/ann/keep/',
    'home/ann/keep/cache/',
    'home/ann/keep/cache/small',
    'home/bob/',
    'home/bob/cache/',
    'home/bob/cache/big',
    'src/',
    'src/main.c',
  ]);
});

test('anchored patterns match from the root only; slashed unanchored patterns match any suffix', async () => {
  const got = await kept(BASIC, (root) => ({ patterns: [`${root}/home/*/cache`, 'foo/bar'] }));
  assert.ok(!got.includes('home/ann/cache/'));
  assert.ok(!got.includes('home/bob/cache/'));
  assert.ok(got.includes('home/ann/keep/cache/small'), 'cache one level deeper is not anchored-matched');
  assert.ok(!got.includes('deep/foo/bar/'), 'foo/bar matches /x/deep/foo/bar');
  assert.ok(got.includes('deep/foo/'));
  assert.ok(got.includes('deep/bar/z'));
  assert.ok(got.includes('foo'), 'unrelated file named foo kept');
});

test('** matches any number of directories', async () => {
  const spec = { 'a/x.tmp': '', 'a/b/c/y.tmp': '', 'z.tmp': '', 'a/b/keep': '', 'p/q/r/s/target/t': '', 'p/target/u': '' };
  const got = await kept(spec, (root) => ({ patterns: [`${root}/a/**/*.tmp`, 'p/**/target'] }));
  assert.deepEqual(got, ['a/', 'a/b/', 'a/b/c/', 'a/b/keep', 'p/', 'p/q/', 'p/q/r/', 'p/q/r/s/', 'z.tmp']);
});

test('! re-includes what earlier patterns excluded', async () => {
  const spec = { 'data/a': '', 'data/keep/x': '', 'data/keep/y.tmp': '', 'data/sub/z': '', 'other': '' };
  const got = await kept(spec, (root) => ({ patterns: [`${root}/data/**/*`, `!${root}/data/keep`, '*.tmp'] }));
  assert.deepEqual(got, ['data/', 'data/keep/', 'data/keep/x', 'other']);
});

test('--iexclude ignores case; --exclude does not', async () => {
  const spec = { 'photo.jpg': '', 'PHOTO2.Jpg': '', 'Docs/Readme.TXT': '', 'keep.png': '' };
  assert.deepEqual(await kept(spec, () => ({ insensitivePatterns: ['*.JPG', 'docs'] })), ['keep.png']);
  assert.deepEqual(await kept(spec, () => ({ patterns: ['*.JPG', 'docs'] })), ['Docs/', 'Docs/Readme.TXT', 'PHOTO2.Jpg', 'keep.png', 'photo.jpg']);
  // negation in one list does not undo an exclusion by the other list
  assert.deepEqual(await kept(spec, () => ({ insensitivePatterns: ['*.jpg'], patterns: ['!photo.jpg'] })), ['Docs/', 'Docs/Readme.TXT', 'keep.png']);
});

test('--exclude-file: comments, blank lines, whitespace, env vars, $$; file patterns come after CLI ones', async () => {
  const root = await tree({ 'a.log': '', 'b.log': '', 'c.txt': '', 'home/secret': '', '$RECYCLE.BIN/x': '', 'sub/d.log': '' });
  try {
    const file = join(root, 'excludes.txt');
    await writeFile(file, '\uFEFF# a comment\n\n   *.log   \r\n  # indented comment\n$PYB_TEST_ROOT/home\n${PYB_TEST_ROOT}/$$RECYCLE.BIN\n!b.log\nexcludes.txt\n');
    const m = await createExcludeMatcher({ patterns: ['!a.log'], excludeFiles: [file], env: { PYB_TEST_ROOT: root } });
    assert.deepEqual(await walk(root, m), ['b.log', 'c.txt', 'sub/']);
    const file2 = join(root, 'iexcludes.txt');
    await writeFile(file2, '*.LOG\n*.TXT\n');
    const m2 = await createExcludeMatcher({ insensitiveExcludeFiles: [file2] });
    assert.deepEqual(await walk(root, m2), ['$RECYCLE.BIN/', '$RECYCLE.BIN/x', 'home/', 'home/secret', 'sub/']);
    // UTF-16 with BOM is converted
    await writeFile(file2, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('c.txt\r\n', 'utf16le')]));
    const m3 = await createExcludeMatcher({ excludeFiles: [file2] });
    assert.ok(!(await walk(root, m3)).includes('c.txt'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('--exclude-file problems: missing, garbled, malformed pattern', async () => {
  const root = await tree({});
  try {
    await assert.rejects(createExcludeMatcher({ excludeFiles: [join(root, 'nope')] }), (e: unknown) => e instanceof InvalidInputError && /--exclude-file .*nope: cannot read: no such file/.test(e.message));
    await assert.rejects(createExcludeMatcher({ excludeFiles: [root] }), InvalidInputError);
    const bad = join(root, 'bad');
    await writeFile(bad, Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    await assert.rejects(createExcludeMatcher({ insensitiveExcludeFiles: [bad] }), (e: unknown) => e instanceof InvalidInputError && e.message.includes('line 2 is not valid UTF-8'));
    await writeFile(bad, 'a\nb\0c\n');
    await assert.rejects(createExcludeMatcher({ excludeFiles: [bad] }), (e: unknown) => e instanceof InvalidInputError && e.message.includes('line 2 contains a NUL'));
    await writeFile(bad, '# fine\n*.o\nsrc/[abc\n');
    await assert.rejects(createExcludeMatcher({ excludeFiles: [bad] }), (e: unknown) => e instanceof UsageError && e.message.startsWith(`--exclude-file ${bad}:3: invalid pattern "src/[abc"`));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('garbage patterns and options are rejected', async () => {
  for (const p of ['[', 'a[]', 'x/y\\', '[z-]']) {
    await assert.rejects(createExcludeMatcher({ patterns: [p] }), (e: unknown) => e instanceof UsageError && e.message.includes(JSON.stringify(p)), p);
    await assert.rejects(createExcludeMatcher({ insensitivePatterns: [p] }), (e: unknown) => e instanceof UsageError && e.message.startsWith('--iexclude:'), p);
  }
  for (const spec of ['', ':Signature', 'a/b']) await assert.rejects(createExcludeMatcher({ excludeIfPresent: [spec] }), UsageError, spec);
  for (const n of [-1, 1.5, Number.NaN, Infinity]) await assert.rejects(createExcludeMatcher({ excludeLargerThan: n }), UsageError);
});

const TAG = `${CACHEDIR_TAG_SIGNATURE}\n# This file is a cache directory tag.\n`;

test('--exclude-caches keeps the dir and CACHEDIR.TAG, drops the rest; bad signatures do nothing', async () => {
  const warnings: string[] = [];
  const spec = {
    'cache/CACHEDIR.TAG': TAG,
    'cache/blob': 'x',
    'cache/sub/deep': 'x',
    'fake/CACHEDIR.TAG': 'Signature: nope, not a real cache dir tag at all',
    'fake/data': 'x',
    'short/CACHEDIR.TAG': 'Signature: 8a47',
    'short/data': 'x',
    'plain/data': 'x',
  };
  const got = await kept(spec, () => ({ excludeCaches: true, warn: (w) => warnings.push(w) }));
  assert.deepEqual(got, ['cache/', 'cache/CACHEDIR.TAG', 'fake/', 'fake/CACHEDIR.TAG', 'fake/data', 'plain/', 'plain/data', 'short/', 'short/CACHEDIR.TAG', 'short/data']);
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((w) => w.startsWith('invalid signature') && w.includes('fake/CACHEDIR.TAG')));
  assert.ok(warnings.some((w) => w.includes('too short') && w.includes('short/CACHEDIR.TAG')));
});

test('--exclude-if-present NAME and NAME:HEADER', async () => {
  const spec = {
    'a/.nobackup': '',
    'a/data': 'x',
    'b/.marker': 'MAGIC header then more',
    'b/data': 'x',
    'c/.marker': 'wrong header',
    'c/data': 'x',
    'd/.nobackup': '',
    'd/CACHEDIR.TAG': TAG,
    'd/data': 'x',
    'e/data': 'x',
  };
  const got = await kept(spec, () => ({ excludeIfPresent: ['.nobackup', '.marker:MAGIC header'], excludeCaches: true }));
  assert.deepEqual(got, ['a/', 'a/.nobackup', 'b/', 'b/.marker', 'c/', 'c/.marker', 'c/data', 'd/', 'e/', 'e/data']);
});

test('--exclude-larger-than excludes bigger files only, never directories', async () => {
  const spec = { 'small': 'x'.repeat(10), 'exact': 'x'.repeat(100), 'big': 'x'.repeat(101), 'dir/big2': 'y'.repeat(1000) };
  const got = await kept(spec, () => ({ excludeLargerThan: 100 }));
  assert.deepEqual(got, ['dir/', 'exact', 'small']);
});

test('--git-ignore: nested .gitignore files, negation, dir-only patterns, anchoring', async () => {
  const spec = {
    '.gitignore': '# root rules\n*.log\n!keep.log\nbuild/\n/top-only\n',
    'a.log': '',
    'keep.log': '',
    'build/out.o': '',
    'top-only': '',
    'src/top-only': '',
    'src/build': 'a FILE named build: dir-only pattern does not apply',
    'src/x.log': '',
    'src/lib/build/y': '',
    'src/.gitignore': '!important.log\n*.tmp\n/generated/\n',
    'src/important.log': '',
    'src/t.tmp': '',
    'src/generated/g.c': '',
    'src/lib/generated/h.c': '',
    'src/lib/u.tmp': '',
    'other/t.tmp': '',
  };
  const got = await kept(spec, () => ({ gitIgnore: true }));
  assert.deepEqual(got, [
    '.gitignore',
    'keep.log',
    'other/',
    'other/t.tmp',
    'src/',
    'src/.gitignore',
    'src/build',
    'src/important.log',
    'src/lib/',
    'src/lib/generated/',
    'src/lib/generated/h.c',
    'src/top-only',
  ]);
  // without the option .gitignore files mean nothing
  assert.equal((await kept(spec, () => ({}))).length, 23);
});

test('--git-ignore combines with patterns; unreadable .gitignore warns', async (t) => {
  const spec = { '.gitignore': '*.a\n', 'x.a': '', 'x.b': '', 'x.c': '' };
  assert.deepEqual(await kept(spec, () => ({ gitIgnore: true, patterns: ['*.b'] })), ['.gitignore', 'x.c']);
  if (process.getuid?.() === 0) {
    t.diagnostic('running as root: permission test skipped');
    return;
  }
  const root = await tree({ 'sub/.gitignore': '*\n', 'sub/f': '' });
  try {
    const { chmod } = await import('node:fs/promises');
    await chmod(join(root, 'sub/.gitignore'), 0o000);
    const warnings: string[] = [];
    const got = await walk(root, await createExcludeMatcher({ gitIgnore: true, warn: (w) => warnings.push(w) }));
    assert.deepEqual(got, ['sub/', 'sub/.gitignore', 'sub/f']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /could not read .*\.gitignore.*EACCES/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('non-UTF-8 file names: wildcards match, walker-style paths work', async () => {
  const root = await tree({ 'ok.bin': '', 'ok.txt': '' });
  try {
    const odd = Buffer.concat([Buffer.from(root), Buffer.from('/'), Buffer.from([0xff, 0x41]), Buffer.from('.bin')]);
    await writeFile(odd, '');
    const got = await walk(root, await createExcludeMatcher({ patterns: ['*.bin'] }));
    assert.deepEqual(got, ['ok.txt']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('isExcluded copes with a root directory path and the walker\'s "//" join', async () => {
  const m = await createExcludeMatcher({ patterns: ['/etc/*.conf', 'tmp'], gitIgnore: true });
  const rules = await m.enterDir(Buffer.from('/'), [], m.rootRules());
  assert.equal(m.isExcluded(rules, Buffer.from('//etc'), Buffer.from('etc'), true, 0), false);
  assert.equal(m.isExcluded(rules, Buffer.from('//tmp'), Buffer.from('tmp'), true, 0), true);
  assert.equal(m.isExcluded(m.rootRules(), Buffer.from('/etc/a.conf'), Buffer.from('a.conf'), false, 0), true);
});
