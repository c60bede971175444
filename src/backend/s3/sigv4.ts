import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for requests signed in the Authorization header (docs.aws.amazon.com, "Signature Version 4
 * signing process"). Pure functions: the caller builds the request from the returned path and headers, so what is
 * sent is byte for byte what was signed. Checked against AWS's published test suite in sigv4.test.ts.
 */

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigningInput {
  readonly method: string;
  /** The Host header as sent (hostname, plus ":port" when not the scheme's default). */
  readonly host: string;
  /** The path, not yet percent-encoded ("/bucket/a key"); each segment is encoded once (S3 style, no normalizing). */
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  /** Further headers to send and sign (names in any case), e.g. x-amz-content-sha256, range. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD". */
  readonly payloadHash: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  readonly date: Date;
}

export interface Signed {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
  /** Every header to send, lowercase names: the signed ones (host included) plus authorization. */
  readonly headers: Record<string, string>;
  /** Encoded path and query to put on the request line. */
  readonly pathAndQuery: string;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, every other UTF-8 byte becomes %XX (uppercase). */
export function uriEncode(s: string, encodeSlash = true): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || c === '-' || c === '.' || c === '_' || c === '~') out += c;
    else if (c === '/' && !encodeSlash) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function canonicalUri(path: string): string {
  return uriEncode(path.startsWith('/') ? path : `/${path}`, false);
}

/** Names and values encoded, then sorted by name and value (code unit order of the encoded strings). */
export function canonicalQuery(query: readonly (readonly [string, string])[] = []): string {
  const pairs = query.map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lowercase names, sorted; values trimmed with inner runs of whitespace folded to one space. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): { text: string; signed: string } {
  const entries = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { text: entries.map(([k, v]) => `${k}:${v}\n`).join(''), signed: entries.map(([k]) => k).join(';') };
}

/** 20150830T123600Z */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, day);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

export function sign(i: SigningInput): Signed {
  const stamp = amzDate(i.date);
  const day = stamp.slice(0, 8);
  const toSign: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.headers ?? {})) toSign[k.toLowerCase()] = v;
  toSign.host = i.host;
  toSign['x-amz-date'] = stamp;
  if (i.credentials.sessionToken) toSign['x-amz-security-token'] = i.credentials.sessionToken;
  const uri = canonicalUri(i.path);
  const query = canonicalQuery(i.query);
  const { text, signed } = canonicalHeaders(toSign);
  const canonicalRequest = [i.method.toUpperCase(), uri, query, text, signed, i.payloadHash].join('\n');
  const scope = `${day}/${i.region}/${i.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(i.credentials.secretAccessKey, day, i.region, i.service)).update(stringToSign).digest('hex');
  const authorization = `${ALGORITHM} Credential=${i.credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
  return {
    canonicalRequest,
    stringToSign,
    signature,
    authorization,
    headers: { ...toSign, authorization },
    pathAndQuery: query ? `${uri}?${query}` : uri,
  };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
