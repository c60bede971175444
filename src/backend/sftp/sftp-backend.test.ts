import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Sshd, startSshd } from '../../../test/servers/sshd.ts';
import { backendContract } from '../contract/contract.ts';
import { sftpConfigFrom } from './config.ts';
import { SftpBackend } from './sftp-backend.ts';

let sshd: Sshd;
before(async () => {
  sshd = await startSshd();
});
after(async () => {
  await sshd?.stop();
});

let n = 0;
backendContract('sftp', async () => {
  const dir = join(sshd.dir, `repo-${++n}`);
  const backend = new SftpBackend(sftpConfigFrom(sshd.location(dir), { HOME: sshd.dir, ...sshd.env } as NodeJS.ProcessEnv));
  return { backend, dispose: () => rm(dir, { recursive: true, force: true }) };
});
