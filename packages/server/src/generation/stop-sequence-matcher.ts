/**
 * Cuts streamed text at the first stop string, OpenAI-style (the stop string itself is not returned),
 * and holds back a tail that could still become a stop string so no client ever sees part of one.
 */
export class StopSequenceMatcher {
  private readonly stops: readonly string[];
  private pending = "";
  private stopped = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Feeds new text; returns the text that is safe to emit now. */
  push(text: string): string {
    if (this.stopped) return "";
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const index = this.pending.indexOf(stop);
      if (index >= 0 && (cut < 0 || index < cut)) cut = index;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return out;
    }
    const keep = this.heldBackLength();
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return out;
  }

  /** Returns what was held back once generation has ended without a stop string. */
  flush(): string {
    const out = this.stopped ? "" : this.pending;
    this.pending = "";
    return out;
  }

  // The longest suffix of `pending` that is a proper prefix of some stop string.
  private heldBackLength(): number {
    let longest = 0;
    for (const stop of this.stops) {
      const max = Math.min(stop.length - 1, this.pending.length);
      for (let length = max; length > longest; length -= 1) {
        if (this.pending.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
