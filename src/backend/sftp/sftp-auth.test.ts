/**
 * Host keys and authentication against a real sshd: known_hosts (plain, hashed, changed, revoked, unknown), named
 * keys (wrong, encrypted with and without the passphrase), ssh-agent, an ssh config alias, refused connections.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Sshd, freePort, startSshd } from '../../../test/servers/sshd.ts';
import { PermanentError, TransientError } from '../backend.ts';
import { sftpConfigFrom } from './config.ts';
import { SftpBackend } from './sftp-backend.ts';

let sshd: Sshd;
let home: string;
before(async () => {
  sshd = await startSshd();
  home = join(sshd.dir, 'home');
  mkdirSync(home);
});
after(async () => {
  await sshd?.stop();
});

let n = 0;
/** Tries to create a repository with this environment; returns the error, or undefined on success. */
async function attempt(env: Record<string, string | undefined>, o: { location?: string; options?: Map<string, string> } = {}): Promise<Error | undefined> {
  const loc = o.location ?? sshd.location(join(sshd.dir, `repo-${++n}`));
  const b = new SftpBackend(sftpConfigFrom(loc, { HOME: home, ...sshd.env, ...env } as NodeJS.ProcessEnv, o.options));
  try {
    await b.create();
    await b.save({ type: 'config', name: '' }, Buffer.from('x'));
    return undefined;
  } catch (e) {
    return e as Error;
  } finally {
    await b.close();
  }
}

function keygen(name: string, passphrase = ''): string {
  const path = join(sshd.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', path], { stdio: 'ignore' });
  return path;
}
const authorize = (key: string): void => appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${key}.pub`));

test('a key and a known_hosts entry from the environment: connects', async () => {
  assert.equal(await attempt({}), undefined);
});

test('-o sftp.key / sftp.known_hosts work like the environment variables', async () => {
  const options = new Map([['sftp.key', sshd.clientKey], ['sftp.known_hosts', sshd.knownHosts]]);
  assert.equal(await attempt({ PYBACKUP_SFTP_KEY: undefined, PYBACKUP_SFTP_KNOWN_HOSTS: undefined }, { options }), undefined);
});

test('hashed known_hosts entries (ssh-keygen -H) are honoured', async () => {
  const kh = join(sshd.dir, 'kh-hashed');
  writeFileSync(kh, readFileSync(sshd.knownHosts));
  execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
  assert.doesNotMatch(readFileSync(kh, 'utf8'), /127\.0\.0\.1/);
  assert.equal(await attempt({ PYBACKUP_SFTP_KNOWN_HOSTS: kh }), undefined);
});

test('unknown host: a PermanentError that says how to add the key', async () => {
  const kh = join(sshd.dir, 'kh-empty');
  writeFileSync(kh, '# nothing\n');
  const e = await attempt({ PYBACKUP_SFTP_KNOWN_HOSTS: kh });
  assert.ok(e instanceof PermanentError, String(e));
  assert.match(e.message, /host key of \[127\.0\.0\.1\]:\d+ is not known/);
  assert.match(e.message, new RegExp(`ssh-keyscan -p ${sshd.port} -t ssh-ed25519 127\\.0\\.0\\.1 >> ${kh}`));
  assert.match(e.message, /SHA256:/);
});

test('changed host key: a loud PermanentError naming the file and line', async () => {
  const other = keygen('other-host-key');
  const kh = join(sshd.dir, 'kh-changed');
  writeFileSync(kh, `# first line\n[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const e = await attempt({ PYBACKUP_SFTP_KNOWN_HOSTS: kh });
  assert.ok(e instanceof PermanentError, String(e));
  assert.match(e.message, /host key for \[127\.0\.0\.1\]:\d+ has CHANGED/);
  assert.match(e.message, new RegExp(`${kh}:2`));
  assert.match(e.message, /ssh-keygen -R/);
});

test('a @revoked host key is refused even when also listed as known', async () => {
  const kh = join(sshd.dir, 'kh-revoked');
  writeFileSync(kh, `${readFileSync(sshd.knownHosts, 'utf8')}@revoked * ${sshd.hostKeyLine}\n`);
  const e = await attempt({ PYBACKUP_SFTP_KNOWN_HOSTS: kh });
  assert.ok(e instanceof PermanentError, String(e));
  assert.match(e.message, /@revoked/);
});

test('a key the server does not accept: a clear authentication error', async () => {
  const e = await attempt({ PYBACKUP_SFTP_KEY: keygen('stranger') });
  assert.ok(e instanceof PermanentError, String(e));
  assert.match(e.message, /authentication to \S+ failed: the server accepted none of key \S+stranger/);
});

test('a missing or public key file, and no key at all: clear errors', async () => {
  let e = await attempt({ PYBACKUP_SFTP_KEY: join(sshd.dir, 'nope') });
  assert.match(String(e), /cannot read the SSH key .*nope: no such file/);
  e = await attempt({ PYBACKUP_SFTP_KEY: `${sshd.clientKey}.pub` });
  assert.match(String(e), /is a public key/);
  e = await attempt({ PYBACKUP_SFTP_KEY: undefined });
  assert.ok(e instanceof PermanentError);
  assert.match(e.message, /no way to authenticate/);
});

test('encrypted key: clear error without the passphrase, wrong passphrase, works with it', async () => {
  const key = keygen('locked', 'open sesame');
  authorize(key);
  let e = await attempt({ PYBACKUP_SFTP_KEY: key });
  assert.match(String(e), /is encrypted: set PYBACKUP_SFTP_KEY_PASSPHRASE/);
  e = await attempt({ PYBACKUP_SFTP_KEY: key, PYBACKUP_SFTP_KEY_PASSPHRASE: 'wrong' });
  assert.match(String(e), /wrong passphrase/);
  assert.equal(await attempt({ PYBACKUP_SFTP_KEY: key, PYBACKUP_SFTP_KEY_PASSPHRASE: 'open sesame' }), undefined);
});

test('default keys in ~/.ssh and ssh-agent (SSH_AUTH_SOCK) are used when no key is named', async (t) => {
  const h = join(sshd.dir, 'home-default');
  mkdirSync(join(h, '.ssh'), { recursive: true });
  writeFileSync(join(h, '.ssh', 'id_ed25519'), readFileSync(sshd.clientKey), { mode: 0o600 });
  assert.equal(await attempt({ HOME: h, PYBACKUP_SFTP_KEY: undefined }), undefined);

  const sock = join(sshd.dir, 'agent.sock');
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  t.after(() => agent.kill('SIGKILL'));
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
  execFileSync('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  assert.equal(await attempt({ PYBACKUP_SFTP_KEY: undefined, SSH_AUTH_SOCK: sock }), undefined);
});

test('an ssh config Host alias supplies host name, port, user, key and known_hosts file', async () => {
  const cfg = join(sshd.dir, 'ssh_config');
  writeFileSync(cfg, `Host backupbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${sshd.knownHosts}\n`);
  const env = { PYBACKUP_SFTP_KEY: undefined, PYBACKUP_SFTP_KNOWN_HOSTS: undefined, PYBACKUP_SFTP_SSH_CONFIG: cfg };
  assert.equal(await attempt(env, { location: `sftp:backupbox:${join(sshd.dir, 'aliased')}` }), undefined);
});

test('nothing listening: TransientError (retried), not a hang', async () => {
  const port = await freePort();
  const e = await attempt({}, { location: `sftp://${sshd.user}@127.0.0.1:${port}//tmp/x` });
  assert.ok(e instanceof TransientError, String(e));
  assert.match(e.message, /cannot connect to .*ECONNREFUSED/);
});

test('unknown -o sftp.* options and bad values are usage errors', () => {
  assert.throws(() => sftpConfigFrom('sftp:h:/r', {}, new Map([['sftp.kye', 'x']])), /unknown option -o sftp\.kye/);
  assert.throws(() => sftpConfigFrom('sftp:h:/r', {}, new Map([['sftp.connections', '0']])), /whole number from 1 to 8/);
});
