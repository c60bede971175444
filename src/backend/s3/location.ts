import { isIP } from 'node:net';
import { UsageError } from '../../errors.ts';

/**
 * `s3:https://host[:port]/bucket[/prefix]`, `s3:http://...` (test servers), or restic's short form
 * `s3:host/bucket[/prefix]` (HTTPS). Credentials never go in the location: they come from the environment or an
 * AWS profile, so they never show in argv, logs or messages.
 */
export interface S3Location {
  readonly protocol: 'http:' | 'https:';
  /** Lowercase host name, or an IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** Explicit port, or undefined for the scheme's default. */
  readonly port?: number;
  readonly bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket's root. */
  readonly prefix: string;
}

const USAGE = 'expected s3:https://host[:port]/bucket[/prefix]';
const BUCKET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

export function parseS3Location(location: string): S3Location {
  if (!location.startsWith('s3:')) throw new UsageError(`not an S3 location; ${USAGE}`);
  let rest = location.slice(3);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) rest = `https://${rest}`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)([?#].*)?$/is.exec(rest);
  if (!m) throw new UsageError(`bad S3 location; ${USAGE}`);
  const [, scheme = '', authority = '', path = '', tail] = m;
  if (authority.includes('@')) {
    // Never echo this location: it may hold a secret.
    throw new UsageError('credentials in an S3 location are not accepted: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use an AWS profile');
  }
  const protocol = `${scheme.toLowerCase()}:`;
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`S3 location "${location}": the scheme must be http or https`);
  if (tail) throw new UsageError(`an S3 location takes no query or fragment; ${USAGE}`);
  let url: URL;
  try {
    url = new URL(`${protocol}//${authority}/`);
  } catch {
    throw new UsageError(`S3 location "${location}": bad host "${authority}"`);
  }
  if (!url.hostname) throw new UsageError(`S3 location "${location}" has no host; ${USAGE}`);
  const segments = path.split('/').filter((s) => s !== '');
  const bucket = segments.shift();
  if (bucket === undefined) throw new UsageError(`S3 location "${location}" names no bucket; ${USAGE}`);
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    throw new UsageError(`S3 location "${location}": "${bucket}" is not a valid bucket name (3-255 letters, digits, ".", "-", "_")`);
  }
  for (const s of segments) {
    if (s === '.' || s === '..') throw new UsageError(`S3 location "${location}": the key prefix may not contain "." or ".." segments`);
    // oxlint-disable-next-line no-control-regex -- control characters are what is being matched
    if (/[\u0000-\u001f\u007f\\]/.test(s)) throw new UsageError(`S3 location "${location}": the key prefix may not contain control characters or "\\"`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol, hostname, ...(url.port ? { port: Number(url.port) } : {}), bucket, prefix: segments.join('/') };
}

/** The location as shown to people (never holds credentials). */
export function formatS3Location(l: S3Location): string {
  return `s3:${l.protocol}//${hostPort(l)}/${l.bucket}${l.prefix ? `/${l.prefix}` : ''}`;
}

/** The Host header for a host name: brackets around IPv6, the port when not the default. */
export function hostPort(l: Pick<S3Location, 'hostname' | 'port'>, hostname = l.hostname): string {
  const h = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  return l.port === undefined ? h : `${h}:${l.port}`;
}

export function isAwsHost(hostname: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?$/.test(hostname);
}

/** s3.eu-west-1.amazonaws.com, s3-eu-west-1.amazonaws.com, s3.dualstack.eu-west-1.amazonaws.com -> eu-west-1. */
export function regionFromHost(hostname: string): string | undefined {
  const m = /(?:^|\.)s3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?$/.exec(hostname);
  return m?.[1];
}

/**
 * Virtual-hosted style (bucket.host) only where it is the norm and works: AWS host names, with a bucket name that
 * is a valid DNS label without dots (dots break the TLS certificate match). Everything else (IP addresses,
 * localhost, custom ports, MinIO, Ceph, Garage, B2, Wasabi, R2) is addressed path-style, which they all accept.
 */
export function defaultPathStyle(l: S3Location): boolean {
  if (isIP(l.hostname) !== 0 || l.hostname === 'localhost' || l.port !== undefined) return true;
  if (!isAwsHost(l.hostname)) return true;
  return !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(l.bucket);
}
