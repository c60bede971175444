import type { Backend, Handle, OpOptions } from '../backend/backend.ts';
import { handleString } from '../backend/backend.ts';
import { PyBackupError } from '../errors.ts';

/** An operation would delete or rewrite data in an append-only repository. */
export class AppendOnlyError extends PyBackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('APPEND_ONLY', message, options);
  }
}

const HOW_TO = 'run `pybackup config --append-only off` from a trusted machine to allow it';

/** The message every refusing command gives, naming what was refused. */
export function appendOnlyRefusal(what: string): AppendOnlyError {
  return new AppendOnlyError(`the repository is append-only: ${what} would delete or rewrite data, which is refused; ${HOW_TO}`);
}

/**
 * Guards a backend of an append-only repository: `remove` of anything but a lock file throws. Commands check
 * first (so the user gets the refusal before any work); this is the backstop for code paths that did not.
 */
export function appendOnlyGuard(inner: Backend): Backend {
  return {
    location: inner.location,
    ...(inner.spoolDir === undefined ? {} : { spoolDir: inner.spoolDir }),
    ...(inner.localPath ? { localPath: (h: Handle) => inner.localPath!(h) } : {}),
    save: (h, d, o) => inner.save(h, d, o),
    load: (h, r, o) => inner.load(h, r, o),
    stat: (h, o) => inner.stat(h, o),
    list: (t, o) => inner.list(t, o),
    async remove(h: Handle, o?: OpOptions): Promise<void> {
      if (h.type !== 'lock') throw appendOnlyRefusal(`removing ${handleString(h)}`);
      await inner.remove(h, o);
    },
    create: (o) => inner.create(o),
    close: () => inner.close(),
  };
}
