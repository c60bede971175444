/** How this CLI starts itself: for the daemon's jobs, and in the systemd units and cron lines it writes. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** src/cli/main.ts */
export const CLI_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

/** This Node binary with this process's Node flags and the CLI entry: a child runs exactly this build. */
export function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, CLI_ENTRY];
}

/** The bin/pybackup launcher when there is one (it picks the Node binary and sets the runtime tuning), else selfCommand. */
export function launcherCommand(): string[] {
  const bin = fileURLToPath(new URL('../../bin/pybackup', import.meta.url));
  return existsSync(bin) ? [bin] : selfCommand();
}
