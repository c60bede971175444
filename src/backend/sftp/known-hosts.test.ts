import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { blobType, checkHostKey, hashHostName, knownHostsName, knownKeyTypes, parseKnownHosts } from './known-hosts.ts';

/** A syntactically valid key blob of `type` (the checks compare blobs; they never verify a signature). */
function blob(type: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, randomBytes(32)]);
}
const line = (hosts: string, b: Buffer, marker = ''): string => `${marker ? `${marker} ` : ''}${hosts} ${blobType(b)} ${b.toString('base64')} comment`;

test('known_hosts names: port 22 is the bare host, other ports are [host]:port; names are lower-cased', () => {
  assert.equal(knownHostsName('Example.ORG', 22), 'example.org');
  assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
});

test('plain entries: ok, changed, unknown, other types, [host]:port', () => {
  const ed = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');
  const text = [
    '# comment', '', line('example.org,192.0.2.7', ed), line('[example.org]:2222', rsa), 'garbage line', `example.org ssh-ed25519 ${blob('ssh-rsa').toString('base64')}`,
  ].join('\n');
  const entries = parseKnownHosts(text, 'kh');
  assert.equal(entries.length, 2, 'comments, garbage and a type/blob mismatch are skipped');
  assert.equal(checkHostKey(entries, 'example.org', 22, ed).status, 'ok');
  assert.equal(checkHostKey(entries, 'EXAMPLE.org', 22, ed).status, 'ok');
  assert.equal(checkHostKey(entries, '192.0.2.7', 22, ed).status, 'ok');
  const changed = checkHostKey(entries, 'example.org', 22, blob('ssh-ed25519'));
  assert.equal(changed.status, 'changed');
  assert.equal(changed.status === 'changed' && changed.entry.line, 3);
  assert.deepEqual(checkHostKey(entries, 'example.org', 22, blob('ecdsa-sha2-nistp256')), { status: 'unknown', otherTypes: ['ssh-ed25519'] });
  assert.equal(checkHostKey(entries, 'example.org', 2222, rsa).status, 'ok');
  assert.equal(checkHostKey(entries, 'example.org', 2222, ed).status, 'unknown', 'a port-22 entry says nothing about port 2222');
  assert.deepEqual(checkHostKey(entries, 'other.org', 22, ed), { status: 'unknown', otherTypes: [] });
  assert.deepEqual(knownKeyTypes(entries, 'example.org', 2222), ['ssh-rsa']);
});

test('wildcards and negation', () => {
  const k = blob('ssh-ed25519');
  const entries = parseKnownHosts(line('*.example.org,!bad.example.org,host?', k), 'kh');
  assert.equal(checkHostKey(entries, 'a.example.org', 22, k).status, 'ok');
  assert.equal(checkHostKey(entries, 'host1', 22, k).status, 'ok');
  assert.equal(checkHostKey(entries, 'host12', 22, k).status, 'unknown');
  assert.equal(checkHostKey(entries, 'bad.example.org', 22, k).status, 'unknown');
  assert.equal(checkHostKey(entries, 'example.org', 22, k).status, 'unknown');
});

test('@revoked wins over a plain entry with the same key; @cert-authority lines never match', () => {
  const k = blob('ssh-ed25519');
  const entries = parseKnownHosts([line('h', k), line('*', k, '@revoked'), line('*', blob('ssh-ed25519'), '@cert-authority'), line('x', k, '@unknown-marker')].join('\n'), 'kh');
  assert.equal(entries.length, 3);
  assert.equal(checkHostKey(entries, 'h', 22, k).status, 'revoked');
  assert.deepEqual(checkHostKey(entries, 'z', 22, blob('ssh-ed25519')), { status: 'unknown', otherTypes: [] });
});

test('hashed entries written by ssh-keygen -H match, for port 22 and [host]:port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyb-kh-'));
  try {
    const a = blob('ssh-ed25519');
    const b = blob('ecdsa-sha2-nistp256');
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `${line('[127.0.0.1]:2222', a)}\n${line('backup.example.org,10.1.2.3', b)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /example|127\.0/, 'ssh-keygen hashed every name');
    const entries = parseKnownHosts(text, file);
    assert.equal(entries.length, 3);
    assert.equal(checkHostKey(entries, '127.0.0.1', 2222, a).status, 'ok');
    assert.equal(checkHostKey(entries, '127.0.0.1', 22, a).status, 'unknown');
    assert.equal(checkHostKey(entries, 'backup.example.org', 22, b).status, 'ok');
    assert.equal(checkHostKey(entries, '10.1.2.3', 22, b).status, 'ok');
    assert.equal(checkHostKey(entries, '10.1.2.3', 22, blob('ecdsa-sha2-nistp256')).status, 'changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: a hashed entry matches exactly its own name', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), fc.integer({ min: 1, max: 65535 }), fc.stringMatching(/^[a-z0-9.-]{1,30}$/), (host, port, other) => {
      const k = blob('ssh-ed25519');
      const salt = randomBytes(20);
      const name = knownHostsName(host, port);
      const entries = parseKnownHosts(`|1|${salt.toString('base64')}|${hashHostName(name, salt).toString('base64')} ssh-ed25519 ${k.toString('base64')}`, 'kh');
      assert.equal(checkHostKey(entries, host, port, k).status, 'ok');
      if (knownHostsName(other, port) !== name) assert.equal(checkHostKey(entries, other, port, k).status, 'unknown');
    }),
    { numRuns: 200 },
  );
});

test('property: parsing arbitrary text never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      parseKnownHosts(s, 'kh');
      parseKnownHosts(`|1|${s} ssh-ed25519 ${s}\n@revoked ${s}`, 'kh');
    }),
    { numRuns: 500 },
  );
});
