/**
 * Length of the longest common subsequence of two token-id sequences, bit-parallel (Allison–Dix /
 * Hyyrö): one pass over `b` with `a` held as 32-bit words, O(⌈|a|/32⌉·|b|).
 */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const m = a.length;
  if (m === 0 || b.length === 0) return 0;
  const matcher = new LcsMatcher();
  matcher.setPattern(a);
  const length = matcher.lcsWith(b, 0, b.length);
  matcher.clearPattern();
  return length;
}

// rouge_score's F-measure for an LCS of a `target`-token and a `prediction`-token text, float for float.
function fmeasureOf(lcs: number, target: number, prediction: number): number {
  const precision = lcs / prediction;
  const recall = lcs / target;
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Holds one pattern's match masks so that it can be compared with many sequences quickly; token ids
 * index a shared slot table, which is why ids must be small non-negative integers.
 */
export class LcsMatcher {
  private slotOfToken = new Int32Array(1024).fill(-1);
  private masks = new Int32Array(64);
  private vector = new Int32Array(4);
  private patternTokens: number[] = [];
  private words = 0;
  private length = 0;

  get patternLength(): number {
    return this.length;
  }

  setPattern(pattern: ArrayLike<number>): void {
    this.clearPattern();
    const m = pattern.length;
    this.length = m;
    this.words = Math.max(1, Math.ceil(m / 32));
    let maxId = 0;
    for (let i = 0; i < m; i++) maxId = Math.max(maxId, pattern[i] as number);
    if (maxId >= this.slotOfToken.length) {
      const grown = new Int32Array(Math.max(maxId + 1, this.slotOfToken.length * 2)).fill(-1);
      this.slotOfToken = grown;
    }
    if (this.masks.length < m * this.words) this.masks = new Int32Array(m * this.words * 2);
    if (this.vector.length < this.words) this.vector = new Int32Array(this.words * 2);
    let slots = 0;
    for (let i = 0; i < m; i++) {
      const token = pattern[i] as number;
      let slot = this.slotOfToken[token] as number;
      if (slot < 0) {
        slot = slots++;
        this.slotOfToken[token] = slot;
        this.patternTokens.push(token);
        this.masks.fill(0, slot * this.words, (slot + 1) * this.words);
      }
      const at = slot * this.words + (i >>> 5);
      this.masks[at] = (this.masks[at] as number) | (1 << (i & 31));
    }
  }

  clearPattern(): void {
    for (const token of this.patternTokens) this.slotOfToken[token] = -1;
    this.patternTokens = [];
    this.length = 0;
  }

  /**
   * The first sequence `i` in `[0, count)` of a packed store (`text[starts[i], ends[i])`) whose ROUGE-L
   * F-measure with the pattern is above `threshold`, with that score; sequences too short or too long to
   * reach it are skipped unread. The hot loop of dedup, kept free of calls and allocations.
   */
  firstAbove(
    text: Int32Array,
    starts: Int32Array,
    ends: Int32Array,
    count: number,
    threshold: number,
  ): { index: number; score: number } | null {
    const m = this.length;
    if (m === 0) return null;
    if (this.words > 1) {
      for (let i = 0; i < count; i++) {
        const n = (ends[i] as number) - (starts[i] as number);
        if (n === 0 || (2 * Math.min(m, n)) / (m + n) < threshold - 1e-12) continue;
        const score = fmeasureOf(this.lcsWith(text, starts[i] as number, ends[i] as number), m, n);
        if (score > threshold) return { index: i, score };
      }
      return null;
    }
    const slotOf = this.slotOfToken;
    const masks = this.masks;
    const size = slotOf.length;
    const live = m === 32 ? -1 : (1 << m) - 1;
    // F ≤ 2·min(m, n)/(m + n): only n in [nMin, nMax] can pass.
    const ratio = Math.max(threshold - 1e-12, 0);
    const nMin = Math.ceil((ratio * m) / (2 - ratio)) - 1;
    const nMax = ratio > 0 ? Math.floor(((2 - ratio) * m) / ratio) + 1 : Infinity;
    for (let i = 0; i < count; i++) {
      const from = starts[i] as number;
      const to = ends[i] as number;
      const n = to - from;
      if (n === 0 || n < nMin || n > nMax) continue;
      let v = -1;
      for (let k = from; k < to; k++) {
        const token = text[k] as number;
        if (token >= size) continue;
        const slot = slotOf[token] as number;
        if (slot < 0) continue;
        const u = v & (masks[slot] as number);
        v = (v + u) | (v & ~u);
      }
      const lcs = popcount32(~v & live);
      if (lcs === 0) continue;
      const score = fmeasureOf(lcs, m, n);
      if (score > threshold) return { index: i, score };
    }
    return null;
  }

  /** LCS length of the pattern and `text[from, to)`. */
  lcsWith(text: ArrayLike<number>, from: number, to: number): number {
    const m = this.length;
    if (m === 0 || to <= from) return 0;
    const slotOf = this.slotOfToken;
    const masks = this.masks;
    const size = slotOf.length;
    if (this.words === 1) {
      let v = -1;
      for (let k = from; k < to; k++) {
        const token = text[k] as number;
        if (token >= size) continue;
        const slot = slotOf[token] as number;
        if (slot < 0) continue;
        const u = v & (masks[slot] as number);
        v = (v + u) | (v & ~u) | 0;
      }
      const live = m === 32 ? -1 : (1 << m) - 1;
      return popcount32(~v & live);
    }
    const words = this.words;
    const v = this.vector;
    v.fill(-1, 0, words);
    for (let k = from; k < to; k++) {
      const token = text[k] as number;
      if (token >= size) continue;
      const slot = slotOf[token] as number;
      if (slot < 0) continue;
      const base = slot * words;
      let carry = 0;
      for (let w = 0; w < words; w++) {
        const vw = v[w] as number;
        const u = vw & (masks[base + w] as number);
        // Unsigned add with carry across words.
        const sum = (vw >>> 0) + (u >>> 0) + carry;
        carry = sum > 0xffffffff ? 1 : 0;
        v[w] = sum | (vw & ~u) | 0;
      }
    }
    let zeros = 0;
    for (let w = 0; w < words; w++) {
      const bits = m - w * 32;
      const live = bits >= 32 ? -1 : (1 << bits) - 1;
      zeros += popcount32(~(v[w] as number) & live);
    }
    return zeros;
  }
}

/** Textbook O(|a|·|b|) dynamic programme; the reference the bit-parallel version is tested against. */
export function lcsLengthTable(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      current[j] =
        a[i - 1] === b[j - 1]
          ? (previous[j - 1] as number) + 1
          : Math.max(previous[j] as number, current[j - 1] as number);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
