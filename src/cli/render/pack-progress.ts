import { formatBytes, formatDuration, type Output } from './output.ts';

/** Progress over packs, as check and repair report it while reading packs. */
export interface PackProgress {
  readonly elapsedMs: number;
  readonly done: number;
  readonly total: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/**
 * The live line for pack-reading progress: a status line on a TTY, or an NDJSON `status` line at most once a second
 * (and at the end; none with --quiet). `percent` adds the share of bytes done to both.
 */
export class PackProgressLine {
  readonly #out: Output;
  readonly #percent: boolean;
  #last = 0;

  constructor(out: Output, o: { percent: boolean }) {
    this.#out = out;
    this.#percent = o.percent;
  }

  show(e: PackProgress): void {
    const out = this.#out;
    const pct = e.bytesTotal > 0 ? e.bytesDone / e.bytesTotal : 1;
    if (out.json) {
      const now = Date.now();
      if (out.quiet || (now - this.#last < 1000 && e.done < e.total)) return;
      this.#last = now;
      out.line({
        message_type: 'status',
        seconds_elapsed: Math.floor(e.elapsedMs / 1000),
        ...(this.#percent ? { percent_done: pct } : {}),
        packs_done: e.done,
        total_packs: e.total,
        bytes_done: e.bytesDone,
        total_bytes: e.bytesTotal,
      });
      return;
    }
    const share = this.#percent ? `${(pct * 100).toFixed(1)}%  ` : '';
    out.status(`[${formatDuration(e.elapsedMs)}] ${share}${e.done} / ${e.total} packs  ${formatBytes(e.bytesDone)} / ${formatBytes(e.bytesTotal)}`);
  }
}
