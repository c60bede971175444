import type { Command } from 'commander';
import type { Context } from '../context.ts';
import { isLoopback, parseListen, requestReporter, untilInterrupted, withWebdav } from './webdav-session.ts';

interface Flags {
  listen: string;
  verbose?: boolean;
}

export function registerServe(program: Command, ctx: () => Context): void {
  const serve = program.command('serve').description('serve the repository\'s snapshots to other programs');
  serve
    .command('webdav')
    .description('serve every snapshot read-only over WebDAV (/snapshots, /hosts, /tags, /latest) until Ctrl-C')
    .option('--listen <host:port>', 'address to listen on (port 0 = any free port)', '127.0.0.1:0')
    .option('-v, --verbose', 'print each request served')
    .action(async (f: Flags) => {
      const c = ctx();
      const listen = parseListen(f.listen);
      if (!isLoopback(listen.host)) c.out.warn(`warning: listening on ${listen.host}, not only this machine: anyone who can reach it can read every snapshot (there is no authentication; use an SSH tunnel or a reverse proxy with TLS and a password)`);
      await withWebdav(c, listen, requestReporter(c, !!f.verbose), async (s) => {
        if (c.out.json) c.out.line({ message_type: 'listening', url: s.url, host: s.host, port: s.port });
        else c.out.data(`serving snapshots over WebDAV at ${s.url} (read-only); Ctrl-C to stop`);
        await untilInterrupted(c.signal);
      });
    });
}
