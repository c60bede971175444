import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createExcludeMatcher } from '../../archiver/excludes.ts';
import { ignoreFilter } from './ignore.ts';

test('changes in excluded paths and in PyBackup\'s own directories are ignored', async () => {
  const excludes = await createExcludeMatcher({ patterns: ['*.tmp', 'node_modules', '/home/ann/scratch'] });
  const ignore = ignoreFilter({ excludes, ownDirs: ['/home/ann/.cache/pybackup', '/home/ann/backups/repo/'] });
  assert.equal(ignore('/home/ann/docs/report.odt'), false);
  assert.equal(ignore('/home/ann/docs/report.tmp'), true);
  assert.equal(ignore('/home/ann/src/app/node_modules/x/index.js'), true);
  assert.equal(ignore('/home/ann/scratch/a/b'), true);
  assert.equal(ignore('/home/ann/scratchpad'), false);
  assert.equal(ignore('/home/ann/.cache/pybackup/catalog.db-wal'), true);
  assert.equal(ignore('/home/ann/backups/repo'), true);
  assert.equal(ignore('/home/ann/backups/repository'), false);
  const none = ignoreFilter({ ownDirs: [] });
  assert.equal(none('/home/ann/x.tmp'), false);
});
