/**
 * `npm run demo`: a sample directory -> new local repository -> backup -> change -> backup -> restore -> compare.
 * Everything lives under ./demo-work (removed first), so it can be run again.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = join(root, 'demo-work');
const sample = join(work, 'sample');
const repo = join(work, 'repo');
const target = join(work, 'restore');
const env = { ...process.env, PYBACKUP_PASSWORD: 'demo-password', PYBACKUP_CACHE_DIR: join(work, 'cache') };

function run(...args: string[]): void {
  console.log(`\n$ pybackup ${args.join(' ')}`);
  const r = spawnSync(join(root, 'bin', 'pybackup'), args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`demo: pybackup ${args[0]} failed with exit ${r.status}`);
    process.exit(1);
  }
}

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      h.update(`${rel}/${name}\0`);
      if (st?.isDirectory()) walk(p, `${rel}/${name}`);
      else if (st?.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

rmSync(work, { recursive: true, force: true });
mkdirSync(join(sample, 'docs', 'notes'), { recursive: true });
mkdirSync(join(sample, 'photos'), { recursive: true });
for (let i = 0; i < 200; i++) writeFileSync(join(sample, 'docs', `doc-${i}.txt`), `Document ${i}\n${'lorem ipsum dolor sit amet '.repeat(50 + i)}\n`);
writeFileSync(join(sample, 'docs', 'notes', 'todo.md'), '# Todo\n- back up everything\n');
for (let i = 0; i < 4; i++) writeFileSync(join(sample, 'photos', `img-${i}.raw`), randomBytes(4 << 20));
symlinkSync('docs/notes/todo.md', join(sample, 'todo-link'));
console.log(`sample directory: ${sample}`);

run('-r', repo, 'init', '--kdf-memory', '16384');
run('-r', repo, 'backup', sample, '--tag', 'demo');
appendFileSync(join(sample, 'docs', 'doc-1.txt'), 'an edit\n');
writeFileSync(join(sample, 'photos', 'img-new.raw'), randomBytes(1 << 20));
run('-r', repo, 'backup', sample, '--tag', 'demo');
run('-r', repo, 'snapshots');
run('-r', repo, 'stats');
run('-r', repo, 'restore', 'latest', '--target', target, '--verify');
const restored = join(target, sample);
const same = hashTree(sample) === hashTree(restored);
console.log(`\nrestored tree ${same ? 'is identical to' : 'DIFFERS from'} the sample (${restored})`);
process.exit(same ? 0 : 1);
