/**
 * REST step of the benchmark: PyBackup and restic back up the corpus to, and restore it from, a repository served by
 * `rclone serve restic` on 127.0.0.1 (the restic REST protocol over HTTP/1.1). Both use `rest:http://127.0.0.1:PORT/<tool>/`.
 * The rounds, measuring and verification are bench/remote.ts; the report and the command line bench/remote-cli.ts.
 *
 *   node bench/rest.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]
 *   node bench/run.ts --rest        (the regular bench, then this step)
 */
import { startRcloneServe } from '../test/e2e/rclone-serve.ts';
import { runCapture } from './measure.ts';
import { type RemoteOnlyOptions, remoteMain, renderRemoteMarkdown, runRemoteOnly } from './remote-cli.ts';
import { REMOTE_TOOLS, type RemoteBenchOptions, type RemoteBenchResults, type RemoteBenchSpec, remoteToolsOf, runRemoteBench } from './remote.ts';

export { REMOTE_TOOLS as REST_TOOLS, type RemoteTool as RestTool } from './remote.ts';
export type RestBenchResults = RemoteBenchResults<'server'>;

const REST: RemoteBenchSpec<'server'> = {
  name: 'rest',
  server: 'server',
  steps: ['init', 'initial', 'restore'],
  /** One `rclone serve restic` for both tools; the repositories are `<dir>/<tool>`. */
  async start(dir) {
    const s = await startRcloneServe(dir);
    return { describe: `rclone serve restic on ${s.url}`, reposDir: dir, repoArgs: (tool) => ['-r', `rest:${s.url}${tool}/`], stop: () => s.stop() };
  },
  serverVersion: async () => (await runCapture('rclone', ['version'])).stdout.trim().split('\n')[0] ?? '?',
  heading: '## REST repository (`rclone serve restic` on 127.0.0.1)',
  intro: (res) =>
    `Server: ${res.server}, HTTP/1.1 on 127.0.0.1; ${res.restic} with \`-r rest:http://127.0.0.1:PORT/restic/\`, PyBackup with ` +
    `\`rest:http://127.0.0.1:PORT/pybackup/\`. Median of ${res.rounds} round(s); CPU and RSS are the client's (the server's share is ` +
    'not counted for either). > 1.00x means PyBackup is slower.',
  rateTools: REMOTE_TOOLS,
};

/** Runs `rounds` rounds of init, initial backup and restore (verified) for each tool against one `rclone serve restic`. */
export async function runRestBench(o: RemoteBenchOptions): Promise<RestBenchResults> {
  return await runRemoteBench(REST, o);
}

export function renderRestMarkdown(res: RestBenchResults, corpusBytes: number): string {
  return renderRemoteMarkdown(REST, res, corpusBytes);
}

/** Runs only the REST step (`node bench/rest.ts`, `npm run bench -- --rest-only`); see runRemoteOnly. */
export async function runRestOnly(o: RemoteOnlyOptions): Promise<number> {
  return await runRemoteOnly(REST, o);
}

/** `--tools` of the main bench, narrowed to the tools with a REST step. */
export const restToolsOf = remoteToolsOf;

if (import.meta.main) await remoteMain(REST);
