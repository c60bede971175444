import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../errors.ts';
import { parseIni, resolveS3Settings } from './credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'pyb-aws-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const credFile = join(dir, 'credentials');
const configFile = join(dir, 'config');
writeFileSync(
  credFile,
  `# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default/secret+key

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=work-secret
aws_session_token = work-token
; another comment
[broken]
aws_access_key_id = ONLYID
`,
);
writeFileSync(
  configFile,
  `[default]
region = eu-central-1
[profile work]
region = ap-south-1
s3 =
  addressing_style = path
  other = x
[profile sso]
sso_session = corp
`,
);
const base = { HOME: join(dir, 'nohome'), AWS_SHARED_CREDENTIALS_FILE: credFile, AWS_CONFIG_FILE: configFile };

test('credentials: the environment comes first, with its session token and region', () => {
  const s = resolveS3Settings({ ...base, AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'tok', AWS_DEFAULT_REGION: 'us-west-2' });
  assert.deepEqual(s, { credentials: { accessKeyId: 'AKIDENV', secretAccessKey: 'env-secret', sessionToken: 'tok' }, region: 'us-west-2', source: 'environment' });
  assert.equal(resolveS3Settings({ ...base, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'r1', AWS_DEFAULT_REGION: 'r2' }).region, 'r1');
  assert.throws(() => resolveS3Settings({ ...base, AWS_ACCESS_KEY_ID: 'AKIDENV' }), /AWS_SECRET_ACCESS_KEY is not/);
  assert.throws(() => resolveS3Settings({ ...base, AWS_SECRET_ACCESS_KEY: 'hunter2hunter2' }), (e: Error) => e instanceof UsageError && !e.message.includes('hunter2'));
});

test('credentials: profiles from the shared files (default, AWS_PROFILE), region and addressing style from config', () => {
  assert.deepEqual(resolveS3Settings(base), {
    credentials: { accessKeyId: 'AKIDDEFAULT', secretAccessKey: 'default/secret+key' },
    region: 'eu-central-1',
    source: 'profile default',
  });
  assert.deepEqual(resolveS3Settings({ ...base, AWS_PROFILE: 'work' }), {
    credentials: { accessKeyId: 'AKIDWORK', secretAccessKey: 'work-secret', sessionToken: 'work-token' },
    region: 'ap-south-1',
    addressingStyle: 'path',
    source: 'profile work',
  });
  assert.equal(resolveS3Settings({ ...base, AWS_PROFILE: 'work', AWS_REGION: 'override' }).region, 'override');
});

test('credentials: missing or unusable profiles are usage errors that name no secret', () => {
  assert.throws(() => resolveS3Settings({ ...base, AWS_PROFILE: 'nope' }), /profile "nope" not found/);
  assert.throws(() => resolveS3Settings({ ...base, AWS_PROFILE: 'broken' }), /no aws_access_key_id and aws_secret_access_key/);
  assert.throws(() => resolveS3Settings({ ...base, AWS_PROFILE: 'sso' }), /sso_session/);
  assert.throws(() => resolveS3Settings({ HOME: join(dir, 'nohome') }), /no S3 credentials/);
  // the default files live under $HOME/.aws
  assert.throws(() => resolveS3Settings({ HOME: dir }), /no S3 credentials/);
});

test('ini: sections, comments, nested settings', () => {
  const ini = parseIni('[a]\nk = v\n  # c\nn =\n  x = 1\n  y=2\nz = 3\n[profile b]\nq= r = s\n');
  assert.deepEqual(Object.fromEntries(ini.get('a') ?? []), { k: 'v', 'n.x': '1', 'n.y': '2', z: '3' });
  assert.deepEqual(Object.fromEntries(ini.get('profile b') ?? []), { q: 'r = s' });
});
