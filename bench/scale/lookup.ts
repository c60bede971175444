/**
 * Blob-lookup probe for the memory scenario, run as a child process under GNU time:
 *   node bench/scale/lookup.ts CATALOG_DB IDS_FILE N
 * Opens the catalog with src/repository/catalog.ts and times N present + N absent `hasBlob` lookups (the backup's
 * dedup check) and N present `blob` lookups (the restore path), in random order. Prints one JSON line (LookupResult).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Catalog } from '../../src/repository/catalog.ts';
import { createRng } from '../prng.ts';

export interface LookupResult {
  n: number;
  sampleIds: number;
  /** Microseconds per call. */
  presentHasUs: number;
  absentHasUs: number;
  presentBlobUs: number;
  /** Every sampled present id was found, and no absent id was. */
  ok: boolean;
  rssBytes: number;
}

function main(): void {
  const [path, idsFile, nArg] = process.argv.slice(2);
  if (path === undefined || idsFile === undefined) throw new Error('usage: node bench/scale/lookup.ts CATALOG_DB IDS_FILE [N]');
  const n = Number(nArg ?? 100_000);
  const ids = readFileSync(idsFile);
  const k = ids.length / 32;
  if (k < 1) throw new Error(`${idsFile} holds no ids`);
  const rng = createRng('pybackup-scale-lookup');
  const present = Array.from({ length: n }, () => {
    const i = rng.int(0, k - 1);
    return ids.subarray(i * 32, i * 32 + 32);
  });
  const pool = randomBytes(n * 32);
  const absent = Array.from({ length: n }, (_, i) => pool.subarray(i * 32, i * 32 + 32));
  const cat = new Catalog('bench', { path });
  let found = 0;
  let t0 = performance.now();
  for (const id of present) if (cat.hasBlob(id)) found++;
  const presentHasUs = ((performance.now() - t0) * 1000) / n;
  let falsePos = 0;
  t0 = performance.now();
  for (const id of absent) if (cat.hasBlob(id)) falsePos++;
  const absentHasUs = ((performance.now() - t0) * 1000) / n;
  let located = 0;
  t0 = performance.now();
  for (const id of present) if (cat.blob(id) !== undefined) located++;
  const presentBlobUs = ((performance.now() - t0) * 1000) / n;
  cat.close();
  const r: LookupResult = { n, sampleIds: k, presentHasUs, absentHasUs, presentBlobUs, ok: found === n && located === n && falsePos === 0, rssBytes: process.memoryUsage().rss };
  console.log(JSON.stringify(r));
}

main();
