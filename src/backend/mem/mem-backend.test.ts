import { backendContract } from '../contract/contract.ts';
import { MemBackend } from './mem-backend.ts';

backendContract('mem', async () => ({ backend: new MemBackend(), dispose: async () => {} }));
