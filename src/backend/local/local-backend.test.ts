import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendContract } from '../contract/contract.ts';
import { LocalBackend } from './local-backend.ts';

backendContract('local', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pyb-local-'));
  return { backend: new LocalBackend(join(dir, 'repo')), dispose: () => rm(dir, { recursive: true, force: true }) };
});
