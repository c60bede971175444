import type { FileType, Handle } from './backend.ts';

/** restic-compatible directory names, so `rest:` servers (rclone serve restic, rest-server) accept the layout. */
export const TYPE_DIRS: Record<FileType, string> = {
  config: '',
  key: 'keys',
  pack: 'data',
  index: 'index',
  snapshot: 'snapshots',
  lock: 'locks',
};

/** Relative path of a handle: packs are fanned out into data/<first two hex digits>/. */
export function relPath(h: Handle): string {
  if (h.type === 'config') return 'config';
  if (h.type === 'pack') return `data/${h.name.slice(0, 2)}/${h.name}`;
  return `${TYPE_DIRS[h.type]}/${h.name}`;
}

export const NAME_RE = /^[0-9a-f]{64}$/;
