import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { pendingEarlyDerivations } from '../crypto/kdf.ts';
import { startEarlyUnlock } from './early-unlock.ts';
import { initRepository, openRepository } from './open-repository.ts';

async function repo(t: { after: (f: () => void) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-early-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  process.env['PYBACKUP_CACHE_DIR'] = join(dir, 'cache'); // the catalogs of this test's repositories
  const r = await initRepository(join(dir, 'repo'), 'correct horse');
  r.catalog.close();
  return dir;
}

test('a derivation started early is the one the open uses; a wrong guess changes nothing', async (t) => {
  const dir = await repo(t);
  const location = join(dir, 'repo');
  startEarlyUnlock(['-r', location, 'snapshots'], { PYBACKUP_PASSWORD: 'correct horse' });
  await tick();
  assert.equal(pendingEarlyDerivations(), 1);
  const r = await openRepository(location, 'correct horse', {});
  assert.equal(pendingEarlyDerivations(), 0, 'the open took it');
  r.catalog.close();
  await r.backend.close();

  // a password file, read the way the command reads it (trailing newline dropped); the open uses another password
  writeFileSync(join(dir, 'pw'), 'wrong\n');
  startEarlyUnlock([`--repo=${location}`, '--password-file', join(dir, 'pw'), 'backup', '/x'], {});
  await tick();
  assert.equal(pendingEarlyDerivations(), 1);
  const again = await openRepository(location, 'correct horse', {});
  assert.equal(pendingEarlyDerivations(), 1, 'the guess is left unused');
  again.catalog.close();
  await again.backend.close();
  await assert.rejects(openRepository(location, 'wrong', {}), /wrong password/);
  assert.equal(pendingEarlyDerivations(), 0, 'the wrong guess was taken by the open with that password');
});

test('no head start when it cannot be foreseen safely', async (t) => {
  const dir = await repo(t);
  const location = join(dir, 'repo');
  const none = async (argv: string[], env: NodeJS.ProcessEnv): Promise<void> => {
    startEarlyUnlock(argv, env);
    await tick();
    assert.equal(pendingEarlyDerivations(), 0, argv.join(' '));
  };
  const pw = { PYBACKUP_PASSWORD: 'correct horse' };
  await none(['-r', location, 'init'], pw); // makes keys: nothing to derive from
  await none(['-r', location, 'backup', '--help'], pw);
  await none(['-r', 'sftp:host:/srv/repo', 'snapshots'], pw);
  await none(['-r', 's3:http://127.0.0.1:9/b/r', 'snapshots'], pw);
  await none(['-r', location, '--password-command', 'echo x', 'snapshots'], {}); // a command must not run twice
  await none(['-r', location, 'snapshots'], { ...pw, PYBACKUP_PASSWORD_COMMAND: 'echo x' });
  await none(['-r', location, 'snapshots'], {}); // no password without a prompt
  await none(['-r', join(dir, 'missing'), 'snapshots'], pw);
  await none(['snapshots'], pw); // no repository
  await none(['-r'], pw);
  writeFileSync(join(location, 'keys', 'f'.repeat(64)), '{}'); // two key files: which one opens is unknown
  await none(['-r', location, 'snapshots'], pw);
});
