import type { Writable } from "node:stream";

export interface ProgressBarOptions {
  /** Where the bar is drawn (stderr, so stdout stays clean for results). */
  stream: Writable & { isTTY?: boolean; columns?: number };
  /** Clock in ms, for tests. */
  now?: () => number;
  /** Least time between two redraws on a terminal (default 100 ms); elsewhere one line every `logIntervalMs`. */
  redrawMs?: number;
  /** Off a terminal: least time between two progress lines (default 5 s). */
  logIntervalMs?: number;
}

export interface ProgressBar {
  /** Reports progress; a new label starts a new line. */
  update(label: string, loaded: number, total: number): void;
  /** Draws the final state and ends the line. */
  done(): void;
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 1234567 → "1.23 MB" (decimal units, as the Hub shows sizes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${UNITS[unit]}`;
}

/** A one-line progress bar with bytes and speed; redraws in place on a terminal, prints sparse lines elsewhere. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream } = options;
  const now = options.now ?? (() => Date.now());
  const tty = Boolean(stream.isTTY);
  const interval = tty ? (options.redrawMs ?? 100) : (options.logIntervalMs ?? 5000);
  let label = "";
  let loaded = 0;
  let total = 0;
  let lastDraw = -Infinity;
  let drawn: number | null = null;
  let open = false;
  // Speed over the last few seconds, from (time, bytes) samples.
  let samples: [number, number][] = [];

  const speed = (): number => {
    if (samples.length < 2) return 0;
    const [t0, b0] = samples[0];
    const [t1, b1] = samples[samples.length - 1];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  };

  const line = (): string => {
    const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 100;
    const width = 24;
    const filled = Math.round((percent / 100) * width);
    const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
    const rate = speed();
    return `${label} [${bar}] ${String(percent).padStart(3)}% ${formatBytes(loaded)} / ${formatBytes(total)}${rate > 0 ? ` ${formatBytes(rate)}/s` : ""}`;
  };

  const draw = (force: boolean): void => {
    const t = now();
    if (!force && t - lastDraw < interval) return;
    lastDraw = t;
    drawn = loaded;
    if (tty) {
      const text = line();
      const columns = stream.columns ?? 100;
      stream.write(`\r${text.length >= columns ? text.slice(0, columns - 1) : text.padEnd(columns - 1)}`);
      open = true;
    } else stream.write(`${line()}\n`);
  };

  const finishLine = (): void => {
    if (!label) return;
    if (drawn !== loaded) draw(true);
    if (tty && open) stream.write("\n");
    open = false;
  };

  return {
    update(nextLabel, nextLoaded, nextTotal) {
      if (nextLabel !== label) {
        finishLine();
        label = nextLabel;
        samples = [];
        lastDraw = -Infinity;
        drawn = null;
      }
      loaded = nextLoaded;
      total = nextTotal;
      const t = now();
      samples.push([t, loaded]);
      while (samples.length > 2 && t - samples[0][0] > 3000) samples.shift();
      // Off a terminal a 0% line says nothing: the first line comes once bytes arrive.
      if (!tty && loaded === 0 && total > 0) return;
      draw(loaded >= total);
    },
    done() {
      finishLine();
      label = "";
    },
  };
}
