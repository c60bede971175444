import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { lowerPriority } from './priority.ts';

const HAVE_IONICE = spawnSync('ionice', ['-V']).status === 0;

/** Runs a fresh Node process (the test runner's own priority stays untouched) and returns what it printed. */
function child(code: string): Record<string, unknown> {
  const script = `
    import { lowerPriority } from ${JSON.stringify(new URL('./priority.ts', import.meta.url).href)};
    import { Worker } from 'node:worker_threads';
    import { execFileSync } from 'node:child_process';
    import { getPriority } from 'node:os';
    ${code}`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as Record<string, unknown>;
}

test('nice and idle I/O reach every thread, later threads and child processes', { skip: !HAVE_IONICE && 'ionice not installed' }, () => {
  const r = child(`
    const res = lowerPriority({ nice: 15, ionice: { class: 'idle' } });
    const w = new Worker('import { parentPort } from "node:worker_threads"; import { getPriority } from "node:os"; parentPort.postMessage(getPriority());', { eval: true, type: 'module' });
    const workerNice = await new Promise((resolve) => w.once('message', resolve));
    await w.terminate();
    const shell = execFileSync('/bin/sh', ['-c', 'nice; ionice -p $$'], { encoding: 'utf8' }).trim().split('\\n');
    console.log(JSON.stringify({ res, main: getPriority(), workerNice, shell }));
  `);
  assert.deepEqual(r.res, { applied: ['nice 15', 'ionice idle'], warnings: [] });
  assert.equal(r.main, 15);
  assert.equal(r.workerNice, 15, 'a worker thread started afterwards inherits the nice value');
  assert.deepEqual(r.shell, ['15', 'idle'], 'a child process inherits both');
});

test('best-effort level; a missing ionice and a refused nice are warnings, not failures', () => {
  const r = child(`
    const be = lowerPriority({ ionice: { class: 'best-effort', level: 6 } });
    const shell = ${HAVE_IONICE ? "execFileSync('/bin/sh', ['-c', 'ionice -p $$'], { encoding: 'utf8' }).trim()" : "''"};
    const missing = lowerPriority({ ionice: { class: 'idle' } }, { ionicePath: '/nonexistent/ionice' });
    console.log(JSON.stringify({ be, shell, missing }));
  `);
  if (HAVE_IONICE) {
    assert.deepEqual(r.be, { applied: ['ionice best-effort:6'], warnings: [] });
    assert.equal(r.shell, 'best-effort: prio 6');
  }
  assert.deepEqual(r.missing, { applied: [], warnings: ['could not set ionice idle: the ionice program (util-linux) is not installed'] });
  if (process.getuid?.() === 0) {
    const asNobody = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--no-warnings', '--input-type=module', '-e',
      `import { lowerPriority } from ${JSON.stringify(new URL('./priority.ts', import.meta.url).href)}; console.log(JSON.stringify(lowerPriority({ nice: -5 })));`], { encoding: 'utf8' });
    const res = JSON.parse(asNobody) as { applied: string[]; warnings: string[] };
    assert.deepEqual(res.applied, []);
    assert.match(res.warnings[0] ?? '', /^could not set nice -5: /);
  }
  assert.deepEqual(lowerPriority({}), { applied: [], warnings: [] });
});
