import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { UsageError } from '../errors.ts';
import { s3BackendOptions, setBackendOptions } from './backend-options.ts';

afterEach(() => setBackendOptions([]));

test('-o s3.*: path style and region reach the S3 backend; bad keys and values are usage errors', () => {
  assert.deepEqual(s3BackendOptions(), {});
  setBackendOptions(['s3.path-style=true', 'S3.Region = eu-west-1']);
  assert.deepEqual(s3BackendOptions(), { pathStyle: true, region: 'eu-west-1' });
  setBackendOptions(['s3.path-style=off']);
  assert.deepEqual(s3BackendOptions(), { pathStyle: false });
  for (const bad of ['s3.path-style=maybe', 's3.region=EU WEST', 's3.nope=1', 'novalue', '=x']) {
    assert.throws(() => setBackendOptions([bad]), UsageError, bad);
  }
});
