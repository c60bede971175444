import type { Command } from 'commander';
import { readState } from '../../app/profile/state.ts';
import { UsageError } from '../../errors.ts';
import { isLoopback, startWebUi } from '../../web/ui/server.ts';
import { type Context, repoLocation } from '../context.ts';
import { withBrowse } from './browse-common.ts';

/** "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" -> parts (port 0 = any free port). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:8080), not ${JSON.stringify(s)}`);
  const host = (m[1] || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** A location as shown in the UI: any "user:password@" of a URL is left out. */
export function redactLocation(loc: string): string {
  return loc.replace(/\/\/[^/@\s]*@/, '//');
}

export function registerWeb(program: Command, ctx: () => Context): void {
  program
    .command('web')
    .description('browse snapshots, download, compare and restore files in a local web UI (until Ctrl-C)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1 and a free port)')
    .action(async (f: { listen?: string }) => {
      const c = ctx();
      const { host, port } = f.listen ? parseListen(f.listen) : { host: '127.0.0.1', port: 0 };
      await withBrowse(c, { catalog: true }, async (b) => {
        const ui = await startWebUi(
          {
            repo: b.repo,
            store: b.store,
            reader: b.reader,
            location: redactLocation(repoLocation(c)),
            lastCheck: () => {
              const st = readState().repositories[b.repo.config.id];
              const run = st?.lastCheckRun;
              if (!run) return st?.lastCheck;
              return `${run.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${run.readData ? 'with --read-data, ' : ''}${run.errors === 0 ? 'no errors' : `${run.errors} errors`})`;
            },
            onWarning: (m) => c.out.warn(`warning: ${m}`),
            signal: c.signal,
          },
          { host, port },
        );
        if (!isLoopback(host)) c.out.warn(`warning: listening on ${host}, which other machines may reach; anyone with the link (it holds the access token) can read and restore this repository's data. Plain HTTP is not encrypted: prefer 127.0.0.1 and an SSH tunnel.`);
        if (c.out.json) c.out.line({ message_type: 'web_started', url: ui.url, host: ui.host, port: ui.port });
        else {
          c.out.data(`PyBackup web UI: ${ui.url}`);
          c.out.info('Open this link in a browser on this machine; press Ctrl-C to stop.');
        }
        await new Promise<void>((resolve) => {
          if (c.signal.aborted) resolve();
          else c.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await ui.close();
      });
    });
}
