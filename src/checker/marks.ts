import type { CheckIndex } from './check-index.ts';
import type { FindingLog } from './findings.ts';

/**
 * Findings about prune's marks (docs/design.md §14e), after the tree walk:
 * - a used blob whose only listed copy was in a marked pack that a prune already deleted is lost (error; a prune
 *   never does that, so it means damage or a bug);
 * - a marked pack that still holds blobs snapshots use, stored in no unmarked pack, is a warning: a backup that ran
 *   while the pack was marked used them, and the next prune keeps the pack.
 */
export function reportMarks(index: CheckIndex, referenced: ReadonlySet<string>, log: FindingLog): void {
  for (const hex of index.gone) {
    if (!referenced.has(hex) || log.bad.has(hex)) continue;
    const pack = index.lookup(hex)?.pack.id;
    const message = `blob ${hex} is used by a snapshot, but its only pack ${pack ?? '?'} was deleted by a prune`;
    log.hold({ severity: 'error', code: 'blob-missing', blob: hex, ...(pack ? { pack } : {}), message }, [hex]);
  }
  if (index.marked.size === 0) return;
  const live = (hex: string): boolean => index.locations(hex).some((l) => l.pack.size !== undefined && !index.marked.has(l.pack.id));
  for (const [id, mark] of index.marked) {
    const p = index.packs.get(id);
    if (!p || p.size === undefined) continue;
    const used = p.blobs.filter((b) => {
      const hex = b.id.toString('hex');
      return referenced.has(hex) && !log.bad.has(hex) && !live(hex);
    }).length;
    if (used === 0) continue;
    log.report({
      severity: 'warning',
      code: 'pack-marked-in-use',
      pack: id,
      blobCount: used,
      message: `pack ${id} is marked for deletion (mark file ${mark}), but snapshots use ${used} of its blobs that no other pack holds`,
      hint: 'a backup that ran while the pack was marked uses them; the next prune keeps the pack',
    });
  }
}
