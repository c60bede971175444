import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostMatches, parseSshConfig } from './ssh-config.ts';

const CONFIG = `
# a comment
Host nas backup-*  !backup-old
  HostName 192.0.2.10
  Port=2222
  User  alice
  IdentityFile ~/.ssh/nas_key
  IdentityFile "%d/keys/with space"
  IdentitiesOnly yes
  UserKnownHostsFile ~/.ssh/kh_nas /etc/ssh/kh

Match host nas
  Port 9999

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_other
  Include extra.conf
`;

test('Host blocks: first value wins, IdentityFile accumulates, tokens and ~ expand, Match is skipped', () => {
  const c = parseSshConfig(CONFIG, 'nas', '/home/a', () => 'Host *\n  HostName never-used\n');
  assert.deepEqual(c, {
    hostName: '192.0.2.10',
    port: 2222,
    user: 'alice',
    identitiesOnly: true,
    knownHostsFiles: ['/home/a/.ssh/kh_nas', '/etc/ssh/kh'],
    identityFiles: ['/home/a/.ssh/nas_key', '/home/a/keys/with space', '/home/a/.ssh/id_other'],
  });
});

test('an alias no Host block names gets the catch-all; Include is read relative to ~/.ssh', () => {
  const seen: string[] = [];
  const c = parseSshConfig(CONFIG, 'backup-old', '/home/a', (p) => {
    seen.push(p);
    return 'HostName included.example.org\n';
  });
  assert.deepEqual(seen, ['/home/a/.ssh/extra.conf']);
  assert.deepEqual(c, { user: 'fallback', port: 22, identityFiles: ['/home/a/.ssh/id_other'], hostName: 'included.example.org' });
});

test('host patterns: wildcards, negation, case-insensitive', () => {
  assert.equal(hostMatches('Backup-1', ['backup-*']), true);
  assert.equal(hostMatches('backup-old', ['backup-*', '!backup-old']), false);
  assert.equal(hostMatches('x', ['?']), true);
  assert.equal(hostMatches('xy', ['?']), false);
});

test('nonsense lines are ignored', () => {
  assert.deepEqual(parseSshConfig('Port abc\nHostName\n=\n"\nHost\n', 'h', '/h'), {});
});
