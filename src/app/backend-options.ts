import type { S3BackendOptions } from '../backend/s3/s3-backend.ts';
import { SFTP_OPTION_SPECS } from '../backend/sftp/config.ts';
import { REMOTE_OPTION_SPECS } from './remote-options.ts';
import { UsageError } from '../errors.ts';

/**
 * Extended backend options, restic's `-o key=value` (repeatable). The CLI sets them once per run, before any
 * repository is opened; backendFor() passes each backend its own. Keys are "<backend>.<name>"; unknown keys and bad
 * values are usage errors. Secrets never go here (they would show in argv): credentials come from the environment.
 */
const KNOWN: Record<string, { readonly help: string; readonly check: (v: string) => string | undefined }> = {
  's3.path-style': { help: 'true or false: address the bucket as host/bucket instead of bucket.host', check: (v) => (parseBool(v) === undefined ? 'expected true or false' : undefined) },
  's3.region': { help: 'the region to sign for (default: from the host, AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1)', check: (v) => (/^[a-z0-9-]{1,40}$/.test(v) ? undefined : 'expected a region name such as eu-west-1') },
  ...SFTP_OPTION_SPECS,
  ...REMOTE_OPTION_SPECS,
};

let current = new Map<string, string>();

export function setBackendOptions(list: readonly string[]): void {
  const next = new Map<string, string>();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-o "${item}": expected key=value (known keys: ${Object.keys(KNOWN).join(', ')})`);
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    const spec = KNOWN[key];
    if (!spec) throw new UsageError(`-o ${key}: unknown option (known: ${Object.entries(KNOWN).map(([k, s]) => `${k} (${s.help})`).join('; ')})`);
    const problem = spec.check(value);
    if (problem) throw new UsageError(`-o ${key}=${value}: ${problem}`);
    next.set(key, value);
  }
  current = next;
}

export function s3BackendOptions(): Pick<S3BackendOptions, 'pathStyle' | 'region'> {
  const pathStyle = parseBool(current.get('s3.path-style') ?? '');
  const region = current.get('s3.region');
  return { ...(pathStyle === undefined ? {} : { pathStyle }), ...(region ? { region } : {}) };
}

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  return undefined;
}

/** The `sftp.*` options, for the SFTP backend (it validates them again, with the location at hand). */
export function sftpBackendOptions(): ReadonlyMap<string, string> {
  return new Map([...current].filter(([k]) => k.startsWith('sftp.')));
}

/** The `rest.*` and `rclone.*` options (src/app/remote-options.ts). */
export function remoteBackendOptions(): ReadonlyMap<string, string> {
  return new Map([...current].filter(([k]) => k.startsWith('rest.') || k.startsWith('rclone.')));
}
