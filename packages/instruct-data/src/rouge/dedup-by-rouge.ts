import { RougeSimilarityIndex } from "./rouge-similarity-index.js";
import type { RougeTokenizerName } from "./rouge-tokenize.js";

export interface DedupByRougeOptions {
  /** A text is a near-duplicate when its ROUGE-L F-measure with a kept one is above this (Alpaca: 0.7). */
  threshold?: number;
  tokenizer?: RougeTokenizerName;
  /** Texts that are already kept (seed tasks): compared with, never returned. */
  reference?: readonly string[];
  onProgress?: (event: { done: number; total: number; kept: number }) => void;
  signal?: AbortSignal;
}

export interface NearDuplicate {
  /** Index of the dropped text in the input. */
  index: number;
  /** The kept (or reference) text it is too close to. */
  duplicateOf: string;
  score: number;
}

/** Greedy ROUGE-L dedup in input order: a text is kept unless it is too close to a reference or an earlier kept text. */
export function dedupByRouge(
  texts: readonly string[],
  options: DedupByRougeOptions = {},
): { kept: number[]; duplicates: NearDuplicate[] } {
  const threshold = options.threshold ?? 0.7;
  const index = new RougeSimilarityIndex({ tokenizer: options.tokenizer });
  for (const text of options.reference ?? []) index.add(text);
  const kept: number[] = [];
  const duplicates: NearDuplicate[] = [];
  texts.forEach((text, i) => {
    if (i % 256 === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.({ done: i, total: texts.length, kept: kept.length });
    }
    const ids = index.encode(text);
    const hit = index.findAbove(text, threshold, ids);
    if (hit) {
      duplicates.push({ index: i, duplicateOf: index.texts[hit.index] as string, score: hit.score });
    } else {
      kept.push(i);
      index.add(text, ids);
    }
  });
  options.onProgress?.({ done: texts.length, total: texts.length, kept: kept.length });
  return { kept, duplicates };
}
