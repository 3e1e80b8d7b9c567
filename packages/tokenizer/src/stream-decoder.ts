// Incremental detokenization: decode a short window of recent ids and emit only what it adds, holding
// back text that ends in an unfinished UTF-8 sequence (U+FFFD) until the next id completes it.

const REPLACEMENT = "\uFFFD";

export class StreamDecoder {
  private ids: number[] = [];
  /** Start of the window that is re-decoded (its first token's leading-space handling stays fixed). */
  private prefixOffset = 0;
  /** Ids before this are already emitted. */
  private readOffset = 0;
  private emitted = "";

  constructor(private readonly decode: (ids: number[]) => string) {}

  push(id: number): string {
    this.ids.push(id);
    if (this.readOffset >= this.ids.length) return "";
    const before = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const after = this.decode(this.ids.slice(this.prefixOffset));
    if (after.endsWith(REPLACEMENT) || !after.startsWith(before) || after.length === before.length) return "";
    const text = after.slice(before.length);
    // The next window starts where this emission began, so the next token keeps its leading space.
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.emitted += text;
    return text;
  }

  /** Emits whatever is held back (a final incomplete character becomes U+FFFD, as decode does) and resets. */
  flush(): string {
    // One full decode at the end makes the concatenation exactly decode(allIds).
    const full = this.decode(this.ids);
    const text = full.startsWith(this.emitted) ? full.slice(this.emitted.length) : "";
    this.ids = [];
    this.prefixOffset = 0;
    this.readOffset = 0;
    this.emitted = "";
    return text;
  }
}
