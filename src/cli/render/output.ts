/** Terminal output: a live status line on a TTY, NDJSON with --json, plain lines otherwise. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly tty: boolean;
  #statusShown = false;

  constructor(o: { json: boolean; quiet: boolean }) {
    this.json = o.json;
    this.quiet = o.quiet;
    this.tty = !!process.stderr.isTTY && !o.json;
  }

  /** Replaces the live status line (stderr, TTY only). */
  status(line: string): void {
    if (!this.tty || this.quiet) return;
    const cols = process.stderr.columns || 100;
    const text = line.length > cols - 1 ? `${line.slice(0, cols - 2)}…` : line;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.#statusShown = true;
  }

  clearStatus(): void {
    if (this.#statusShown) {
      process.stderr.write('\r\x1b[2K');
      this.#statusShown = false;
    }
  }

  /** Normal output (stdout); suppressed by --quiet. */
  info(text: string): void {
    if (this.quiet) return;
    this.clearStatus();
    process.stdout.write(`${text}\n`);
  }

  /** Data the user asked for (stdout); never suppressed. */
  data(text: string): void {
    this.clearStatus();
    process.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    this.clearStatus();
    process.stderr.write(`${text}\n`);
  }

  line(obj: unknown): void {
    process.stdout.write(`${JSON.stringify(obj)}\n`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Left-aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]): string => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd();
  const sep = '-'.repeat(w.reduce((a, b) => a + b + 2, -2));
  return [fmt(header), sep, ...rows.map(fmt), sep].join('\n');
}
