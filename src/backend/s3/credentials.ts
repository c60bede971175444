import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from '../../errors.ts';
import { UsageError } from '../../errors.ts';
import type { Credentials } from './sigv4.ts';

/**
 * Where S3 credentials and the region come from, in the AWS CLI's order: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 * (+ AWS_SESSION_TOKEN); else the profile AWS_PROFILE (default "default") in the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and the config file (AWS_CONFIG_FILE, ~/.aws/config).
 * Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, then the caller's fallback. Messages name the
 * variables and files, never a key or a secret.
 */
export interface S3Settings {
  readonly credentials: Credentials;
  readonly region?: string;
  /** The profile's `s3 = addressing_style = path|virtual`, if any. */
  readonly addressingStyle?: 'path' | 'virtual';
  /** Where the credentials came from ("environment" or "profile NAME"), for messages. */
  readonly source: string;
}

type Ini = Map<string, Map<string, string>>;

/**
 * The INI dialect of the AWS files: `[section]`, `key = value`, `#`/`;` comments, and nested settings written as
 * an empty `key =` followed by indented `sub = value` lines (stored as "key.sub").
 */
export function parseIni(text: string): Ini {
  const out: Ini = new Map();
  let section: Map<string, string> | undefined;
  let parent: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\uFEFF/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const head = /^\[\s*([^\]]+?)\s*\]$/.exec(trimmed);
    if (head) {
      const name = (head[1] as string).replace(/\s+/g, ' ');
      section = out.get(name) ?? new Map();
      out.set(name, section);
      parent = undefined;
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (!section || eq <= 0) continue;
    const key = trimmed.slice(0, eq).trim().toLowerCase();
    const value = trimmed.slice(eq + 1).trim();
    const indented = /^\s/.test(line);
    if (indented && parent !== undefined) {
      section.set(`${parent}.${key}`, value);
    } else {
      parent = value === '' ? key : undefined;
      if (value !== '') section.set(key, value);
    }
  }
  return out;
}

export function resolveS3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const envRegion = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  const id = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const home = nonEmpty(env.HOME) ?? homedir();
  const credFile = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, '.aws', 'credentials');
  const configFile = nonEmpty(env.AWS_CONFIG_FILE) ?? join(home, '.aws', 'config');
  const explicitProfile = nonEmpty(env.AWS_PROFILE) ?? nonEmpty(env.AWS_DEFAULT_PROFILE);
  const profile = explicitProfile ?? 'default';
  const creds = readIni(credFile)?.get(profile);
  const configIni = readIni(configFile);
  const config = configIni?.get(`profile ${profile}`) ?? (profile === 'default' ? configIni?.get('default') : undefined);
  const setting = (k: string): string | undefined => nonEmpty(creds?.get(k)) ?? nonEmpty(config?.get(k));
  const region = envRegion ?? setting('region');
  const style = setting('s3.addressing_style');
  const addressingStyle = style === 'path' || style === 'virtual' ? style : undefined;
  const extra: Pick<S3Settings, 'region' | 'addressingStyle'> = { ...(region ? { region } : {}), ...(addressingStyle ? { addressingStyle } : {}) };

  if (id !== undefined || secret !== undefined) {
    if (id === undefined) throw new UsageError('AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not');
    if (secret === undefined) throw new UsageError('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not');
    const token = nonEmpty(env.AWS_SESSION_TOKEN) ?? nonEmpty(env.AWS_SECURITY_TOKEN);
    return { credentials: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) }, ...extra, source: 'environment' };
  }

  if (!creds && !config) {
    if (explicitProfile !== undefined) throw new UsageError(`AWS profile "${profile}" not found in ${credFile} or ${configFile}`);
    throw new UsageError(
      'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a [default] profile to ~/.aws/credentials (or choose one with AWS_PROFILE)',
    );
  }
  const pid = setting('aws_access_key_id');
  const psecret = setting('aws_secret_access_key');
  if (pid === undefined || psecret === undefined) {
    const kind = ['role_arn', 'credential_process', 'sso_session', 'sso_start_url', 'web_identity_token_file'].find((k) => setting(k) !== undefined);
    const why = kind ? `it uses ${kind}, which PyBackup does not support (export static keys, e.g. with "aws configure export-credentials --format env")` : 'it has no aws_access_key_id and aws_secret_access_key';
    throw new UsageError(`AWS profile "${profile}" cannot be used: ${why}`);
  }
  const ptoken = setting('aws_session_token') ?? setting('aws_security_token');
  return { credentials: { accessKeyId: pid, secretAccessKey: psecret, ...(ptoken ? { sessionToken: ptoken } : {}) }, ...extra, source: `profile ${profile}` };
}

function readIni(path: string): Ini | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new UsageError(`cannot read ${path}: ${code ?? (e as Error).message}`, { cause: e });
  }
  return parseIni(text);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
