/** The backend contract holds through the wrappers: retry alone, and retry around a flaky backend. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendContract } from './contract/contract.ts';
import { withFaults } from './faults.ts';
import { LocalBackend } from './local/local-backend.ts';
import { MemBackend } from './mem/mem-backend.ts';
import { withRetry } from './retry.ts';

const retry = withRetry({ baseMs: 1, capMs: 10, timeoutMs: 100 });
let seed = 1;

backendContract('retry(mem)', async () => ({ backend: withRetry()(new MemBackend()), dispose: async () => {} }));

backendContract('retry(faults(mem))', async () => ({
  backend: retry(withFaults({ rate: 0.1, kinds: ['transient', 'timeout'], seed: seed++ })(new MemBackend())),
  dispose: async () => {},
}));

backendContract('retry(faults(local))', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pyb-faults-'));
  return {
    backend: retry(withFaults({ rate: 0.1, kinds: ['transient', 'timeout'], seed: seed++ })(new LocalBackend(join(dir, 'repo'), { sync: false }))),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
