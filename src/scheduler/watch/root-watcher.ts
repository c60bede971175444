/**
 * Change notifications for one backup source (a directory, watched recursively, or a file). Notifications are a hint:
 * they can be lost (queue overflow, watch limits, a directory created and filled before its watch was added), so the
 * watcher rescans periodically as well. A root that disappears is reported lost and watched again once it is back.
 */
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors.ts';

export interface RootWatcherEvents {
  onChange(path: string): void;
  onLost(): void;
  onBack(): void;
  onError(message: string): void;
}

export type RootState = 'watching' | 'missing' | 'failed';

/** how long to wait before trying a failed watch again (a watch limit is not lifted in a second) */
const RETRY_FAILED_MS = 60_000;

export class RootWatcher {
  readonly root: string;
  readonly #on: RootWatcherEvents;
  #w: FSWatcher | undefined;
  #state: RootState = 'missing';
  #failedAt = 0;

  constructor(root: string, on: RootWatcherEvents) {
    this.root = root;
    this.#on = on;
  }

  get state(): RootState {
    return this.#state;
  }

  /** Starts watching; false when the root does not exist (it is then reported lost). */
  start(now: number): boolean {
    if (!existsSync(this.root)) {
      this.#state = 'missing';
      return false;
    }
    this.#open(now);
    return true;
  }

  #open(now: number): void {
    this.#close();
    let w: FSWatcher;
    try {
      w = watch(this.root, { recursive: true, persistent: false }, (_event, name) => this.#event(name));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') {
        this.#state = 'missing';
        return;
      }
      this.#fail(e, now);
      return;
    }
    this.#w = w;
    this.#state = 'watching';
    w.on('error', (e) => {
      if (this.#w !== w) return;
      this.#fail(e, Date.now());
    });
    // the recursive watcher closes itself when its root is removed
    w.on('close', () => {
      if (this.#w !== w) return;
      this.#w = undefined;
      if (!this.#checkRoot()) return;
      // removed and created again before we looked: a new directory, watched anew
      this.#open(Date.now());
      this.#on.onBack();
    });
  }

  #fail(e: unknown, now: number): void {
    this.#close();
    this.#state = 'failed';
    this.#failedAt = now;
    const code = errnoCode(e);
    const hint = code === 'ENOSPC' || code === 'EMFILE' ? ' (the inotify watch limit: raise fs.inotify.max_user_watches)' : '';
    this.#on.onError(`${(e as Error).message ?? String(e)}${hint}; rescans continue`);
  }

  #event(name: string | Buffer | null): void {
    const rel = name === null ? '' : name.toString();
    if (rel === '') {
      // the root itself: renamed, removed, or (a file root) rewritten
      if (this.#checkRoot()) this.#on.onChange(this.root);
      return;
    }
    this.#on.onChange(join(this.root, rel));
  }

  /** True if the root is still there; else reports it lost. */
  #checkRoot(): boolean {
    if (existsSync(this.root)) return true;
    if (this.#state !== 'missing') {
      this.#close();
      this.#state = 'missing';
      this.#on.onLost();
    }
    return false;
  }

  /** Called periodically: notices a lost root, watches a returned one again, retries a failed watch. */
  poll(now: number): void {
    if (this.#state === 'watching') {
      this.#checkRoot();
      return;
    }
    if (this.#state === 'failed' && now - this.#failedAt < RETRY_FAILED_MS) return;
    if (!existsSync(this.root)) return;
    const was = this.#state;
    this.#open(now);
    if (was === 'missing' && this.#state !== 'missing') this.#on.onBack();
  }

  #close(): void {
    const w = this.#w;
    this.#w = undefined;
    w?.close();
  }

  close(): void {
    this.#close();
  }
}
