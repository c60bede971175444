/**
 * The dependency rule: layers point one way. A module may import its own layer or a lower one, never a higher one.
 * Ranks (low to high): errors < backend, platform < crypto, chunker, model < repository < operations
 * (archiver, restorer, checker, prune, repair, browse) < app, scheduler < cli, web. Run as part of `npm test`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');
const RANK: Record<string, number> = {
  'errors.ts': 0,
  backend: 1,
  platform: 1,
  crypto: 2,
  chunker: 2,
  model: 2,
  repository: 3,
  archiver: 4,
  restorer: 4,
  checker: 4,
  prune: 4,
  repair: 4,
  browse: 4,
  app: 5,
  scheduler: 5,
  cli: 6,
  web: 6,
};
/** Operations may not import each other except through these allowed pairs. */
const SIBLING_OK = new Set(['cli->cli', 'web->web']);

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  const top = rel.split('/')[0] ?? '';
  return top;
}

const problems: string[] = [];
let files = 0;
for (const file of walk(SRC)) {
  files++;
  const from = layerOf(file);
  const fromRank = RANK[from];
  if (fromRank === undefined) {
    problems.push(`${relative(SRC, file)}: directory "${from}" has no layer rank (add it to scripts/check-layers.ts)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1] as string);
    if (!target.startsWith(SRC)) continue;
    const to = layerOf(target);
    const toRank = RANK[to];
    if (toRank === undefined) continue;
    if (to === from) continue;
    const isTest = file.endsWith('.test.ts');
    if (toRank > fromRank && !isTest) problems.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, target)} (${to}): a lower layer must not import a higher one`);
    if (toRank === fromRank && !SIBLING_OK.has(`${from}->${to}`) && !isTest && fromRank === 4) {
      problems.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, target)} (${to}): operations must not import each other`);
    }
  }
}
if (problems.length) {
  console.error(`layer rule violations:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`layers: ${files} files checked, no violations`);
