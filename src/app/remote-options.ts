/**
 * `-o` options of the REST and rclone backends (restic's names): how many calls go at once, and how rclone is run.
 * The environment variables PYBACKUP_RCLONE_PROGRAM / PYBACKUP_RCLONE_ARGS do the same as rclone.program / rclone.args.
 */
export const REMOTE_OPTION_SPECS: Record<string, { readonly help: string; readonly check: (v: string) => string | undefined }> = {
  'rest.connections': { help: 'calls in flight to a REST server, 1-64 (default 5)', check: (v) => connectionsProblem(v) },
  'rclone.connections': { help: 'calls in flight to rclone, 1-64 (default 5)', check: (v) => connectionsProblem(v) },
  'rclone.program': { help: 'the rclone executable (default "rclone" on the PATH)', check: (v) => (v.trim() ? undefined : 'expected a program name or path') },
  'rclone.args': {
    help: 'rclone arguments before the remote (default "serve restic --stdio --b2-hard-delete"; must include --stdio)',
    check: (v) => (/(^|\s)--stdio(\s|$)/.test(v) ? undefined : 'the arguments must include --stdio'),
  },
};

function connectionsProblem(v: string): string | undefined {
  return /^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 64 ? undefined : 'expected a whole number from 1 to 64';
}

/** The connections option for a location's kind, or undefined. */
export function connectionsOption(options: ReadonlyMap<string, string>, kind: 'rest' | 'rclone'): number | undefined {
  const v = options.get(`${kind}.connections`);
  return v === undefined ? undefined : Number(v);
}
