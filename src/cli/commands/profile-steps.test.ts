import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, profileByName } from '../../app/profile/load.ts';
import { makeContext } from '../context.ts';
import { backupFlagsOf, profileContext } from './profile-steps.ts';

const TEXT = `[profiles.p]
repository = "/srv/r"
password-file = "/etc/pw"
paths = ["/data"]
exclude = ["*.o"]
exclude-larger-than = 1048576
tags = ["a", "b"]
compression = 5
xattrs = false
limits = { limit-upload = 512, limit-download = 4096 }
`;

const profile = () => profileByName(parseConfig(TEXT, 'c.toml').config as never, 'p');

test('the profile fills in repository, password source and bandwidth limits; command-line flags win', () => {
  const signal = new AbortController().signal;
  const plain = profileContext(makeContext({}, signal), profile()).globals;
  assert.deepEqual(
    { repo: plain.repo, passwordFile: plain.passwordFile, up: plain.limitUpload, down: plain.limitDownload },
    { repo: '/srv/r', passwordFile: '/etc/pw', up: 512, down: 4096 },
  );
  const own = profileContext(makeContext({ repo: '/other', passwordCommand: 'echo x', limitUpload: 100 }, signal), profile()).globals;
  assert.deepEqual(
    { repo: own.repo, passwordFile: own.passwordFile, passwordCommand: own.passwordCommand, up: own.limitUpload, down: own.limitDownload },
    { repo: '/other', passwordFile: undefined, passwordCommand: 'echo x', up: 100, down: 4096 },
  );
});

test('profile keys map 1:1 to the backup flags', () => {
  const f = backupFlagsOf(profile(), true);
  assert.deepEqual(f.tag, ['a', 'b']);
  assert.deepEqual(f.exclude, ['*.o']);
  assert.equal(f.excludeLargerThan, '1048576');
  assert.equal(f.compression, '5');
  assert.equal(f.xattrs, false);
  assert.equal(f.dryRun, true);
  assert.equal(f.excludeCaches, false);
});
