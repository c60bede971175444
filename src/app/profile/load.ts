/**
 * Finding, reading and checking the configuration file. Every mistake becomes a problem with a line and column:
 * syntax errors from smol-toml's positions, schema errors by mapping their key path back to the source
 * (toml-positions.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { errnoCode, InvalidInputError, UsageError } from '../../errors.ts';
import { buildProfile, mergeOver, type Profile } from './profile.ts';
import { belongsElsewhere, PROFILE_FIELDS, TOP_FIELDS } from './schema.ts';
import { scanPositions } from './toml-positions.ts';
import { checkTable, isTable, type Problem, showPath, typeName } from './validate.ts';
import { closest } from './suggest.ts';

export interface ConfigProblem {
  readonly line?: number;
  readonly column?: number;
  /** the key path, dotted ("profiles.home.retention.keep-daily"); "" for syntax errors */
  readonly key: string;
  readonly message: string;
}

export interface ProfileConfig {
  readonly file: string;
  /** in the order of the file */
  readonly profiles: ReadonlyMap<string, Profile>;
}

/** A configuration file with mistakes; the message lists them as FILE:LINE:COLUMN: message. */
export class ConfigError extends InvalidInputError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.message}`).join('\n'));
    this.file = file;
    this.problems = problems;
  }
}

const MAX_CONFIG_BYTES = 1 << 20;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Where the configuration is looked for, in order: $PYBACKUP_CONFIG, the user's config dir, /etc. */
export function configCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PYBACKUP_CONFIG) return [env.PYBACKUP_CONFIG];
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.config');
  return [join(base, 'pybackup', 'config.toml'), '/etc/pybackup/config.toml'];
}

/** The configuration file to use: `explicit` (--config), or the first candidate that exists. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) return resolve(explicit);
  const candidates = configCandidates(env);
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not there: try the next one
    }
  }
  throw new UsageError(`no configuration file: looked for ${candidates.join(', ')} (use --config FILE)`);
}

export function readConfigText(file: string): string {
  let buf: Buffer;
  try {
    if (statSync(file).size > MAX_CONFIG_BYTES) throw new InvalidInputError(`configuration file ${file} is larger than 1 MiB`);
    buf = readFileSync(file);
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    const code = errnoCode(e);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new InvalidInputError(`cannot read configuration file ${file}: ${why}`, { cause: e });
  }
  const text = buf.toString('utf8');
  if (!buf.equals(Buffer.from(text, 'utf8'))) throw new ConfigError(file, [{ key: '', message: 'the file is not valid UTF-8' }]);
  return text;
}

/** Parses and checks a configuration text. Returns the profiles, or the problems (sorted by position). */
export function parseConfig(text: string, file: string): { config?: ProfileConfig; problems: ConfigProblem[] } {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const message = (e.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    return { problems: [{ line: e.line, column: e.column, key: '', message: `TOML syntax error: ${message}` }] };
  }
  const problems: Problem[] = [];
  const written = (t: unknown): Set<string> => new Set(isTable(t) ? Object.keys(t) : []);
  for (const k of Object.keys(doc)) {
    if ((TOP_FIELDS as readonly string[]).includes(k)) continue;
    const v = doc[k];
    const near = closest(k, TOP_FIELDS);
    const looksLikeProfile = isTable(v) && ('repository' in v || 'paths' in v);
    const hint = near ? `; did you mean "${near}"?` : looksLikeProfile ? `; profiles are tables under [profiles], e.g. [profiles.${k}]` : Object.hasOwn(PROFILE_FIELDS, k) ? '; profile keys go in [defaults] or [profiles.NAME]' : '';
    problems.push({ path: [k], message: `${showPath([k])}: unknown key${hint}`, at: 'key' });
  }
  let defaults: Record<string, unknown> = {};
  if (doc.defaults !== undefined) {
    if (isTable(doc.defaults)) defaults = checkTable(doc.defaults, PROFILE_FIELDS, ['defaults'], problems, belongsElsewhere);
    else problems.push({ path: ['defaults'], message: `defaults: expected a table, got ${typeName(doc.defaults)}`, at: 'value' });
  }
  const profiles = new Map<string, Profile>();
  if (doc.profiles === undefined) {
    problems.push({ path: [], message: 'no profiles: add at least one [profiles.NAME] table', at: 'key' });
  } else if (!isTable(doc.profiles)) {
    problems.push({ path: ['profiles'], message: `profiles: expected a table of profiles ([profiles.NAME]), got ${typeName(doc.profiles)}`, at: 'value' });
  } else {
    for (const [name, raw] of Object.entries(doc.profiles)) {
      const path = ['profiles', name];
      if (!NAME.test(name)) problems.push({ path, message: `${showPath(path)}: invalid profile name: use letters, digits, ".", "_" and "-"`, at: 'key' });
      if (!isTable(raw)) {
        problems.push({ path, message: `${showPath(path)}: expected a table (a profile), got ${typeName(raw)}`, at: 'value' });
        continue;
      }
      const before = problems.length;
      const checked = mergeOver(defaults, checkTable(raw, PROFILE_FIELDS, path, problems, belongsElsewhere));
      const present = new Set([...written(doc.defaults), ...written(raw)]);
      const p = buildProfile(name, checked, present, path, problems);
      if (p && problems.length === before) profiles.set(name, p);
    }
  }
  if (problems.length > 0) {
    const pos = scanPositions(text);
    const located = problems.map((p): ConfigProblem => {
      const where = pos.locate(p.path, p.at);
      return { ...(where ? { line: where.line, column: where.column } : {}), key: showPath(p.path), message: p.message };
    });
    located.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) || (a.column ?? 0) - (b.column ?? 0));
    return { problems: located };
  }
  return { config: { file, profiles }, problems: [] };
}

/** Reads and checks a configuration file; throws ConfigError listing every problem. */
export function loadConfig(file: string): ProfileConfig {
  const text = readConfigText(file);
  const r = parseConfig(text, file);
  if (!r.config) throw new ConfigError(file, r.problems);
  return r.config;
}

/** One profile by name; an unknown name suggests the closest one. */
export function profileByName(config: ProfileConfig, name: string): Profile {
  const p = config.profiles.get(name);
  if (p) return p;
  const names = [...config.profiles.keys()];
  const near = closest(name, names);
  throw new UsageError(`no profile ${JSON.stringify(name)} in ${config.file}${near ? `; did you mean "${near}"?` : ''} (profiles: ${names.join(', ') || 'none'})`);
}
