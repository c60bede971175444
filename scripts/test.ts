/**
 * `npm test`: type-check, lint, layer rules, then every unit and end-to-end test (node:test).
 * Each step's output streams through; the first failing step fails the run.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { TEST_TOOLS, ensureSystemTools } from './system-packages.ts';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'node_modules', '.bin');
const node = process.execPath;
const only = process.argv.slice(2);

const steps: { name: string; cmd: string; args: string[] }[] = [
  { name: 'typecheck', cmd: join(bin, 'tsc'), args: ['--noEmit', '-p', root] },
  { name: 'lint', cmd: join(bin, 'oxlint'), args: ['-c', join(root, '.oxlintrc.json'), '--deny-warnings', 'src', 'test', 'bench', 'scripts'] },
  { name: 'layers', cmd: node, args: [join(root, 'scripts', 'check-layers.ts')] },
  {
    name: 'tests',
    cmd: node,
    args: ['--no-warnings=ExperimentalWarning', '--test', '--test-concurrency=2', '--test-timeout=600000', 'src/**/*.test.ts', 'test/**/*.test.ts'],
  },
];

const env = { ...process.env, PATH: `${dirname(node)}:${bin}:${process.env.PATH ?? ''}` };
if (only.length === 0 || only.includes('tests')) {
  // The tests start real components (sshd, rclone, FUSE, Chromium): install what this machine lacks.
  const missing = ensureSystemTools(TEST_TOOLS, (s) => console.log(s));
  if (missing.length > 0) {
    console.error(`cannot run the tests: missing ${missing.map((t) => `${t.command} (apt package ${t.aptPackage})`).join(', ')}`);
    process.exit(1);
  }
}
for (const s of steps) {
  if (only.length && !only.includes(s.name)) continue;
  console.log(`\n=== ${s.name} ===`);
  const t = Date.now();
  const r = spawnSync(s.cmd, s.args, { cwd: root, stdio: 'inherit', env });
  console.log(`=== ${s.name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t) / 1000).toFixed(1)} s ===`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
