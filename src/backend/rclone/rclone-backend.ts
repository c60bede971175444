import { UsageError } from '../../errors.ts';
import type { Backend } from '../backend.ts';
import { RestBackend } from '../rest/rest-backend.ts';
import { Http2Transport } from '../rest/http2-transport.ts';
import { RcloneProcess } from './rclone-process.ts';

/** Environment variables that change how rclone is run (as restic's -o rclone.program / rclone.args). */
export const RCLONE_PROGRAM_ENV = 'PYBACKUP_RCLONE_PROGRAM';
export const RCLONE_ARGS_ENV = 'PYBACKUP_RCLONE_ARGS';
/** restic's default: B2 deletes really delete instead of hiding old versions. */
export const DEFAULT_RCLONE_ARGS = ['serve', 'restic', '--stdio', '--b2-hard-delete'] as const;

/** `rclone:REMOTE:path` -> `REMOTE:path` (anything rclone accepts: `b2:bucket/dir`, `:local:/srv`, `/plain/dir`). */
export function parseRcloneLocation(location: string): string {
  if (!location.startsWith('rclone:')) throw new UsageError(`invalid rclone repository location "${location}": it does not start with "rclone:"`);
  const remote = location.slice('rclone:'.length);
  if (!remote.trim()) throw new UsageError('invalid rclone repository location "rclone:": expected rclone:REMOTE:path (e.g. rclone:b2:bucket/repo)');
  // oxlint-disable-next-line no-control-regex -- control characters are what is being matched
  if (/[\u0000-\u001f\u007f]/.test(remote)) throw new UsageError('invalid rclone repository location: it contains control characters');
  if (remote.startsWith('-')) throw new UsageError(`invalid rclone repository location "${location}": the remote must not start with "-"`);
  return remote;
}

function rcloneArgs(given: string | undefined): string[] {
  const custom = given?.trim();
  if (!custom) return [...DEFAULT_RCLONE_ARGS];
  const args = custom.split(/\s+/);
  if (!args.includes('--stdio')) throw new UsageError(`${RCLONE_ARGS_ENV} must include --stdio (default: "${DEFAULT_RCLONE_ARGS.join(' ')}")`);
  return args;
}

export interface RcloneBackendOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly idleTimeoutMs?: number;
  /** Override PYBACKUP_RCLONE_PROGRAM / PYBACKUP_RCLONE_ARGS (restic's -o rclone.program / rclone.args). */
  readonly program?: string;
  readonly args?: string;
}

/**
 * A repository reached through `rclone serve restic --stdio REMOTE:path` (restic's approach): rclone starts with the
 * first call and speaks the REST protocol over HTTP/2 on its stdin/stdout; `close` stops it (and so does this
 * process's exit).
 */
export function rcloneBackend(location: string, o: RcloneBackendOptions = {}): Backend {
  const remote = parseRcloneLocation(location);
  const env = o.env ?? process.env;
  const args = rcloneArgs(o.args ?? env[RCLONE_ARGS_ENV]);
  const program = o.program?.trim() || env[RCLONE_PROGRAM_ENV]?.trim() || 'rclone';
  let proc: RcloneProcess | undefined;
  let starting: Promise<RcloneProcess> | undefined;
  let busy = false;
  const transport = new Http2Transport(
    async () => {
      starting ??= RcloneProcess.start({ program, args, remote, env });
      proc = await starting;
      proc.hold(busy);
      return proc.duplex();
    },
    {
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      whyClosed: async () => await proc?.failure(),
      onBusy: (b) => {
        busy = b;
        proc?.hold(b);
      },
    },
  );
  return new RcloneBackend({ transport, basePath: '/', location: `rclone:${remote}` }, async () => {
    await (proc ?? (await starting?.catch(() => undefined)))?.stop();
  });
}

class RcloneBackend extends RestBackend {
  readonly #stop: () => Promise<void>;

  constructor(o: ConstructorParameters<typeof RestBackend>[0], stop: () => Promise<void>) {
    super(o);
    this.#stop = stop;
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.#stop();
    }
  }
}
