import { closeSync, openSync, readSync } from 'node:fs';
import { blobIdOf } from '../crypto/master-key.ts';
import { AbortedError } from '../errors.ts';
import type { Repository } from '../repository/repository.ts';
import type { FileTask } from './content-writer.ts';

/** Re-reads restored files and checks every chunk against the blob ids the snapshot records. */
export async function verifyFiles(
  repo: Pick<Repository, 'catalog' | 'key'>,
  files: readonly FileTask[],
  o: { signal?: AbortSignal; onMismatch: (f: FileTask, why: string) => void },
): Promise<{ files: number; failures: number }> {
  let failures = 0;
  let buf = Buffer.allocUnsafe(1 << 20);
  for (const [i, f] of files.entries()) {
    if (o.signal?.aborted) throw new AbortedError();
    if (i % 256 === 0) await new Promise((r) => setImmediate(r));
    let fd: number;
    try {
      fd = openSync(f.path, 'r');
    } catch (e) {
      failures++;
      o.onMismatch(f, (e as Error).message);
      continue;
    }
    try {
      let pos = 0;
      let bad: string | undefined;
      for (const hex of f.content) {
        const loc = repo.catalog.blob(Buffer.from(hex, 'hex'));
        if (!loc) {
          bad = `blob ${hex} unknown`;
          break;
        }
        if (buf.length < loc.rawLength) buf = Buffer.allocUnsafe(loc.rawLength);
        let got = 0;
        while (got < loc.rawLength) {
          const n = readSync(fd, buf, got, loc.rawLength - got, pos + got);
          if (n === 0) break;
          got += n;
        }
        if (got !== loc.rawLength || blobIdOf(repo.key.id, buf.subarray(0, got)).toString('hex') !== hex) {
          bad = `content differs at offset ${pos}`;
          break;
        }
        pos += got;
      }
      if (!bad && readSync(fd, buf, 0, 1, pos) !== 0) bad = 'file is longer than in the snapshot';
      if (bad) {
        failures++;
        o.onMismatch(f, bad);
      }
    } finally {
      closeSync(fd);
    }
  }
  return { files: files.length, failures };
}
