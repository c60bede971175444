import { readdirSync } from 'node:fs';

/**
 * A directory's entry names as raw bytes, sorted bytewise (the order trees are written in). readdir gives latin1
 * strings — each byte one char, so any name, UTF-8 or not, comes back losslessly — which is much cheaper than a Buffer
 * per entry made by readdir itself; one-byte strings sort by code unit, the byte order Buffer.compare gives.
 * Throws what readdir throws.
 */
export function readDirNames(fsPath: Buffer): Buffer[] {
  return namesFromLatin1(readdirSync(fsPath, { encoding: 'latin1' }));
}

export function namesFromLatin1(names: string[]): Buffer[] {
  return names.sort().map((n) => Buffer.from(n, 'latin1'));
}
