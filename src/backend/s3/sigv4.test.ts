import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EMPTY_SHA256, type SigningInput, canonicalQuery, sha256Hex, sign, uriEncode } from './sigv4.ts';

/*
 * Vectors from AWS's published "aws-sig-v4-test-suite" (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html;
 * the same files ship in aws/aws-sdk-js-v3 packages/signature-v4/src/suite.fixture.ts and in awslabs/aws-c-auth
 * tests/aws-signing-test-suite/v4/<name>/). Credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
 * region us-east-1, service "service", date 20150830T123600Z. `creq` and `sts` are the suite's .creq and .sts files
 * where given; `authz` is the suite's Authorization header.
 */
const SUITE_CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_BASE = {
  host: 'example.amazonaws.com',
  region: 'us-east-1',
  service: 'service',
  credentials: SUITE_CREDS,
  date: new Date('2015-08-30T12:36:00Z'),
  payloadHash: EMPTY_SHA256,
};
const CRED = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const STS_HEAD = 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n';

interface Vector {
  readonly name: string;
  readonly input: Partial<SigningInput> & { method: string; path: string };
  readonly creq?: string;
  readonly sts?: string;
  readonly authz: string;
}

const SUITE: Vector[] = [
  {
    name: 'get-vanilla',
    input: { method: 'GET', path: '/' },
    creq: `GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    sts: `${STS_HEAD}bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63`,
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
  },
  {
    name: 'get-vanilla-query-order-key-case',
    input: { method: 'GET', path: '/', query: [['Param2', 'value2'], ['Param1', 'value1']] },
    creq: `GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
  },
  {
    name: 'get-header-value-trim',
    input: { method: 'GET', path: '/', headers: { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' } },
    creq:
      'GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\nx-amz-date:20150830T123600Z\n\n' +
      `host;my-header1;my-header2;x-amz-date\n${EMPTY_SHA256}`,
    sts: `${STS_HEAD}a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7`,
    authz: `${CRED}, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736`,
  },
  {
    name: 'get-header-value-order',
    input: { method: 'GET', path: '/', headers: { 'My-Header1': 'value4,value1,value3,value2' } },
    authz: `${CRED}, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01`,
  },
  {
    name: 'get-header-key-duplicate (values joined as the suite joins them)',
    input: { method: 'GET', path: '/', headers: { 'My-Header1': 'value2,value2,value1' } },
    authz: `${CRED}, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea`,
  },
  {
    name: 'get-unreserved',
    input: { method: 'GET', path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' },
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f`,
  },
  {
    name: 'get-utf8',
    input: { method: 'GET', path: '/\u1234' },
    creq: `GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85`,
  },
  {
    name: 'get-space',
    input: { method: 'GET', path: '/example space/' },
    creq: `GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741`,
  },
  {
    name: 'get-vanilla-utf8-query',
    input: { method: 'GET', path: '/', query: [['\u1234', 'bar']] },
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04`,
  },
  {
    name: 'get-vanilla-query-unreserved',
    input: {
      method: 'GET',
      path: '/',
      query: [['-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz']],
    },
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197`,
  },
  {
    name: 'post-vanilla-query-nonunreserved',
    input: { method: 'POST', path: '/', query: [['@#$%^', ''], ['+', '/,?><`";:\\|][{}']] },
    creq:
      'POST\n/\n%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D&%40%23%24%25%5E=\nhost:example.amazonaws.com\n' +
      `x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${EMPTY_SHA256}`,
    authz: `${CRED}, SignedHeaders=host;x-amz-date, Signature=66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e`,
  },
  {
    name: 'post-header-key-sort',
    input: { method: 'POST', path: '/', headers: { 'My-Header1': 'value1' } },
    authz: `${CRED}, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c`,
  },
  {
    name: 'post-x-www-form-urlencoded',
    input: { method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, payloadHash: sha256Hex('Param1=value1') },
    creq:
      'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n' +
      'content-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    sts: `${STS_HEAD}42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281`,
    authz: `${CRED}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    input: { method: 'POST', path: '/', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf8' }, payloadHash: sha256Hex('Param1=value1') },
    authz: `${CRED}, SignedHeaders=content-type;host;x-amz-date, Signature=1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe`,
  },
  {
    name: 'get-vanilla-with-session-token',
    input: { method: 'GET', path: '/', credentials: { ...SUITE_CREDS, sessionToken: '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267' } },
    authz: `${CRED}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8`,
  },
];

for (const v of SUITE) {
  test(`aws-sig-v4-test-suite: ${v.name}`, () => {
    const s = sign({ ...SUITE_BASE, ...v.input });
    if (v.creq !== undefined) assert.equal(s.canonicalRequest, v.creq);
    if (v.sts !== undefined) assert.equal(s.stringToSign, v.sts);
    assert.equal(s.authorization, v.authz);
  });
}

/*
 * The worked examples of the Amazon S3 API Reference, "Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk" (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
 * AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, us-east-1, 20130524T000000Z, examplebucket.
 */
const S3_BASE = {
  host: 'examplebucket.s3.amazonaws.com',
  region: 'us-east-1',
  service: 's3',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  date: new Date('2013-05-24T00:00:00Z'),
};
const S3_CRED = 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';
const S3_STS = 'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n';
const WELCOME = sha256Hex('Welcome to Amazon S3.');

test('S3 example: GET Object with a Range header', () => {
  const s = sign({ ...S3_BASE, method: 'GET', path: '/test.txt', headers: { Range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256 }, payloadHash: EMPTY_SHA256 });
  assert.equal(
    s.canonicalRequest,
    'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
      `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
  );
  assert.equal(s.stringToSign, `${S3_STS}7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972`);
  assert.equal(s.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(s.authorization, `${S3_CRED}, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=${s.signature}`);
});

test('S3 example: PUT Object (a key with "$", a signed body hash)', () => {
  assert.equal(WELCOME, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
  const headers = { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'x-amz-content-sha256': WELCOME };
  const s = sign({ ...S3_BASE, method: 'PUT', path: '/test$file.text', headers, payloadHash: WELCOME });
  assert.equal(
    s.canonicalRequest,
    'PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n' +
      `x-amz-content-sha256:${WELCOME}\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n` +
      `date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n${WELCOME}`,
  );
  assert.equal(s.stringToSign, `${S3_STS}9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d`);
  assert.equal(s.signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  assert.equal(s.pathAndQuery, '/test%24file.text');
});

test('S3 example: GET Bucket Lifecycle (a subresource without a value)', () => {
  const s = sign({ ...S3_BASE, method: 'GET', path: '/', query: [['lifecycle', '']], headers: { 'x-amz-content-sha256': EMPTY_SHA256 }, payloadHash: EMPTY_SHA256 });
  assert.equal(s.stringToSign, `${S3_STS}9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca`);
  assert.equal(s.signature, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
  assert.equal(s.pathAndQuery, '/?lifecycle=');
});

test('S3 example: Get Bucket (List Objects), query given out of order', () => {
  const s = sign({ ...S3_BASE, method: 'GET', path: '/', query: [['prefix', 'J'], ['max-keys', '2']], headers: { 'x-amz-content-sha256': EMPTY_SHA256 }, payloadHash: EMPTY_SHA256 });
  assert.equal(
    s.canonicalRequest,
    `GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\n` +
      `host;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
  );
  assert.equal(s.stringToSign, `${S3_STS}df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7`);
  assert.equal(s.signature, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
});

test('uriEncode: unreserved characters pass, everything else is %XX of its UTF-8 bytes and decodes back', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const e = uriEncode(s);
      assert.match(e, /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
      assert.equal(decodeURIComponent(e), s);
      assert.equal(uriEncode(s, false).replace(/\//g, '%2F'), e);
    }),
  );
});

test('canonicalQuery sorts by encoded name then value, whatever the input order', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 8 }), (pairs) => {
      const a = canonicalQuery(pairs);
      assert.equal(canonicalQuery([...pairs].reverse()), a);
      const keys = a === '' ? [] : a.split('&').map((p) => p.split('=')[0] as string);
      assert.deepEqual(keys, [...keys].sort());
    }),
  );
});
