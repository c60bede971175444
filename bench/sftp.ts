/**
 * SFTP step of the benchmark: PyBackup and restic back up the corpus to, and restore it from, a repository served by
 * a real OpenSSH sshd on 127.0.0.1 (test/servers/sshd.ts). PyBackup speaks SSH itself (ssh2); restic runs the
 * system ssh client through `-o sftp.command`. Both authenticate with the same key and check the same known_hosts.
 * The rounds, measuring and verification are bench/remote.ts; the report and the command line bench/remote-cli.ts.
 *
 *   node bench/sftp.ts [--quick] [--rounds N] [--tools pybackup,restic] [--timeout SEC] [--corpus DIR]
 *   node bench/run.ts --sftp        (the regular bench, then this step)
 */
import { join } from 'node:path';
import { startSshd } from '../test/servers/sshd.ts';
import { runCapture } from './measure.ts';
import { type RemoteOnlyOptions, remoteMain, renderRemoteMarkdown, runRemoteOnly } from './remote-cli.ts';
import { type RemoteBenchOptions, type RemoteBenchResults, type RemoteBenchSpec, remoteToolsOf, runRemoteBench } from './remote.ts';

export { REMOTE_TOOLS as SFTP_TOOLS, type RemoteTool as SftpTool } from './remote.ts';
export type SftpBenchResults = RemoteBenchResults<'sshd'>;

const SFTP: RemoteBenchSpec<'sshd'> = {
  name: 'sftp',
  server: 'sshd',
  steps: ['init', 'initial', 'unchanged', 'restore', 'check'],
  /** sshd keeps its state in `<base>/sshd`; the repositories are `<base>/repos/<tool>`. */
  async start(dir, base) {
    const s = await startSshd({ dir });
    const ssh = `ssh -p ${s.port} -i ${s.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${s.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes ${s.user}@127.0.0.1 -s sftp`;
    return {
      describe: `sshd on 127.0.0.1:${s.port}`,
      reposDir: join(base, 'repos'),
      repoArgs: (tool, repoDir) => (tool === 'pybackup' ? ['-r', s.location(repoDir)] : ['-r', `sftp:${s.user}@127.0.0.1:${repoDir}`, '-o', `sftp.command=${ssh}`]),
      env: (tool) => (tool === 'pybackup' ? { PYBACKUP_SFTP_KEY: s.clientKey, PYBACKUP_SFTP_KNOWN_HOSTS: s.knownHosts } : {}),
      stop: () => s.stop(),
    };
  },
  serverVersion: async () => (await runCapture('/usr/sbin/sshd', ['-V'])).stderr.trim().split('\n')[0] ?? '?',
  dropEnv: ['SSH_AUTH_SOCK'],
  heading: '## SFTP repository on a local sshd',
  intro: (res) =>
    `Server: ${res.sshd}, 127.0.0.1, internal-sftp; ${res.restic} through the system ssh client (\`-o sftp.command\`). ` +
    `Median of ${res.rounds} round(s); CPU and RSS are the client's (sshd's share is not counted). > 1.00x means PyBackup is slower.`,
  rateTools: ['pybackup'],
};

/** Runs `rounds` rounds of init, initial and unchanged backup, restore (verified) and check for each tool over SFTP. */
export async function runSftpBench(o: RemoteBenchOptions): Promise<SftpBenchResults> {
  return await runRemoteBench(SFTP, o);
}

export function renderSftpMarkdown(res: SftpBenchResults, corpusBytes: number): string {
  return renderRemoteMarkdown(SFTP, res, corpusBytes);
}

/** Runs only the SFTP step (`node bench/sftp.ts`, `npm run bench -- --sftp-only`); see runRemoteOnly. */
export async function runSftpOnly(o: RemoteOnlyOptions): Promise<number> {
  return await runRemoteOnly(SFTP, o);
}

/** `--tools` of the main bench, narrowed to the tools with an SFTP step. */
export const sftpToolsOf = remoteToolsOf;

if (import.meta.main) await remoteMain(SFTP);
