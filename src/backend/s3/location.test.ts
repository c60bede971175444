import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../errors.ts';
import { defaultPathStyle, formatS3Location, parseS3Location, regionFromHost } from './location.ts';

test('s3 locations: scheme, host, port, bucket and prefix', () => {
  assert.deepEqual(parseS3Location('s3:https://s3.eu-west-1.amazonaws.com/my-bucket/backups/laptop/'), {
    protocol: 'https:',
    hostname: 's3.eu-west-1.amazonaws.com',
    bucket: 'my-bucket',
    prefix: 'backups/laptop',
  });
  assert.deepEqual(parseS3Location('s3:http://127.0.0.1:9000/b12'), { protocol: 'http:', hostname: '127.0.0.1', port: 9000, bucket: 'b12', prefix: '' });
  assert.deepEqual(parseS3Location('s3:HTTP://[::1]:9000//bkt//a//b'), { protocol: 'http:', hostname: '::1', port: 9000, bucket: 'bkt', prefix: 'a/b' });
  // restic's short form means HTTPS
  assert.deepEqual(parseS3Location('s3:s3.wasabisys.com/bucket'), { protocol: 'https:', hostname: 's3.wasabisys.com', bucket: 'bucket', prefix: '' });
  assert.equal(formatS3Location(parseS3Location('s3:http://[::1]:9000/bkt/a')), 's3:http://[::1]:9000/bkt/a');
  assert.equal(formatS3Location(parseS3Location('s3:https://Host.Example.COM:443/bkt/')), 's3:https://host.example.com/bkt');
});

test('s3 locations: bad ones are usage errors that never echo a credential', () => {
  for (const bad of ['s3:', 's3:https://', 's3:https://host', 's3:https://host/', 's3:ftp://host/bucket', 's3:https://host/b', 's3:https://host/bucket/../x',
    's3:https://host/bucket/./x', 's3:https://host/bucket?x=1', 's3:https://host/bucket#f', 's3:https://host:99999/bucket', 's3:https://host/bu*cket', 's3:https://host/bucket/a\tb']) {
    assert.throws(() => parseS3Location(bad), UsageError, bad);
  }
  assert.throws(() => parseS3Location('s3:https://AKIA:topsecret@host/bucket'), (e: Error) => e instanceof UsageError && !e.message.includes('topsecret'));
  assert.throws(() => parseS3Location('s3:https://host/bucket?X-Amz-Credential=topsecret'), (e: Error) => !e.message.includes('topsecret'));
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        parseS3Location(`s3:${s}`);
      } catch (e) {
        assert.ok(e instanceof UsageError);
      }
    }),
  );
});

test('s3 addressing: virtual-hosted for AWS host names, path-style for IPs, localhost, ports and other servers', () => {
  const style = (l: string): boolean => defaultPathStyle(parseS3Location(l));
  assert.equal(style('s3:https://s3.amazonaws.com/bucket'), false);
  assert.equal(style('s3:https://s3.eu-central-1.amazonaws.com/bucket'), false);
  assert.equal(style('s3:https://s3.amazonaws.com/my.dotted.bucket'), true);
  assert.equal(style('s3:https://s3.amazonaws.com/Upper_Case'), true);
  assert.equal(style('s3:http://127.0.0.1:9000/bucket'), true);
  assert.equal(style('s3:http://localhost/bucket'), true);
  assert.equal(style('s3:https://minio.internal:9000/bucket'), true);
  assert.equal(style('s3:https://s3.us-west-004.backblazeb2.com/bucket'), true);
  assert.equal(style('s3:https://acct.r2.cloudflarestorage.com/bucket'), true);
  assert.equal(regionFromHost('s3.eu-west-1.amazonaws.com'), 'eu-west-1');
  assert.equal(regionFromHost('s3-ap-southeast-2.amazonaws.com'), 'ap-southeast-2');
  assert.equal(regionFromHost('s3.dualstack.us-gov-west-1.amazonaws.com'), 'us-gov-west-1');
  assert.equal(regionFromHost('s3.amazonaws.com'), undefined);
  assert.equal(regionFromHost('s3.wasabisys.com'), undefined);
});
