import { PyBackupError } from '../errors.ts';
import { parseIdPrefix } from '../repository/ids.ts';

export class PackNotFoundError extends PyBackupError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/**
 * Resolves pack ids given by the user (full ids or unique hex prefixes) against the known packs: stored or named by
 * an index file. Returns full ids, deduplicated, in the order given.
 */
export function resolvePackIds(refs: readonly string[], known: Iterable<string>): string[] {
  const all = [...new Set(known)];
  const out: string[] = [];
  for (const ref of refs) {
    const p = parseIdPrefix(ref);
    const hits = all.filter((id) => id.startsWith(p));
    if (hits.length === 0) throw new PackNotFoundError(`no pack matches ID ${JSON.stringify(ref)}`);
    if (hits.length > 1) throw new PyBackupError('AMBIGUOUS_ID', `pack ID prefix ${JSON.stringify(ref)} is ambiguous (${hits.length} packs match); give more digits`);
    const id = hits[0] as string;
    if (!out.includes(id)) out.push(id);
  }
  return out;
}
