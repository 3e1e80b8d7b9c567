import { LcsMatcher } from "./lcs.js";
import { rougeFromLcs } from "./rouge-l.js";
import { rougeTokenizerFor, type RougeTokenizerName } from "./rouge-tokenize.js";
import { TokenVocabulary } from "./token-vocabulary.js";

/** A growing set of texts that a new text is compared with by ROUGE-L F-measure. */
export class RougeSimilarityIndex {
  private readonly tokenize: (text: string) => string[];
  private readonly vocabulary = new TokenVocabulary();
  private readonly matcher = new LcsMatcher();
  private tokens = new Int32Array(4096);
  private used = 0;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  readonly texts: string[] = [];

  constructor(options: { tokenizer?: RougeTokenizerName } = {}) {
    this.tokenize = rougeTokenizerFor(options.tokenizer);
  }

  get size(): number {
    return this.texts.length;
  }

  /** Token ids of a text under this index's tokenizer and vocabulary. */
  encode(text: string): Int32Array {
    return this.vocabulary.idsOf(this.tokenize(text));
  }

  add(text: string, ids: Int32Array = this.encode(text)): void {
    if (this.used + ids.length > this.tokens.length) {
      const grown = new Int32Array(Math.max(this.tokens.length * 2, this.used + ids.length));
      grown.set(this.tokens.subarray(0, this.used));
      this.tokens = grown;
    }
    this.tokens.set(ids, this.used);
    const i = this.texts.length;
    if (i >= this.starts.length) {
      const starts = new Int32Array(this.starts.length * 2);
      const ends = new Int32Array(this.ends.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[i] = this.used;
    this.used += ids.length;
    this.ends[i] = this.used;
    this.texts.push(text);
  }

  /** F-measure of `text` against every text in the index, in index order (as the original's pool.map). */
  scoreAll(text: string, ids: Int32Array = this.encode(text)): Float64Array {
    const scores = new Float64Array(this.size);
    if (ids.length === 0) return scores;
    this.matcher.setPattern(ids);
    for (let i = 0; i < this.size; i++) {
      const from = this.starts[i] as number;
      const to = this.ends[i] as number;
      scores[i] = rougeFromLcs(this.matcher.lcsWith(this.tokens, from, to), ids.length, to - from).fmeasure;
    }
    this.matcher.clearPattern();
    return scores;
  }

  /**
   * The first indexed text whose F-measure with `text` is above `threshold`, or null. Texts whose length
   * alone rules that out (F ≤ 2·min/(m+n)) are skipped without an LCS.
   */
  findAbove(
    text: string,
    threshold: number,
    ids: Int32Array = this.encode(text),
  ): { index: number; score: number } | null {
    if (ids.length === 0) return null;
    this.matcher.setPattern(ids);
    try {
      return this.matcher.firstAbove(this.tokens, this.starts, this.ends, this.size, threshold);
    } finally {
      this.matcher.clearPattern();
    }
  }
}

/** The `count` highest scores with their indices, best first (ties: later index first, as numpy's argsort reversed). */
export function topScores(scores: Float64Array, count: number): { index: number; score: number }[] {
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number) || b - a);
  return order.slice(0, count).map((index) => ({ index, score: scores[index] as number }));
}
