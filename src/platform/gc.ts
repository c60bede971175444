import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type Collect = (o: { type: 'minor' | 'major' }) => void;

/**
 * V8's `gc()` for worker threads that make chunk-sized temporaries faster than V8 collects such off-heap garbage
 * (see the file and check workers); undefined where the flag cannot be set.
 */
export function exposeGc(): Collect | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Collect;
  } catch {
    return undefined;
  }
}
