import { lcsLength } from "./lcs.js";
import { rougeTokenizerFor, type RougeTokenizerName } from "./rouge-tokenize.js";
import { TokenVocabulary } from "./token-vocabulary.js";

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** rouge_score's LCS score from an LCS length: precision over the prediction, recall over the target. */
export function rougeFromLcs(lcs: number, targetLength: number, predictionLength: number): RougeScore {
  if (targetLength === 0 || predictionLength === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const precision = lcs / predictionLength;
  const recall = lcs / targetLength;
  // The same expression as rouge_score's scoring.fmeasure, so the floats agree bit for bit.
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

/**
 * ROUGE-L of `prediction` against `target`, as rouge_score's `RougeScorer(['rougeL']).score(target, prediction)`
 * (no stemming). `tokenizer: 'unicode'` also counts words outside a–z / 0–9.
 */
export function rougeL(
  target: string,
  prediction: string,
  options: { tokenizer?: RougeTokenizerName } = {},
): RougeScore {
  const tokenize = rougeTokenizerFor(options.tokenizer);
  const vocabulary = new TokenVocabulary();
  const a = vocabulary.idsOf(tokenize(target));
  const b = vocabulary.idsOf(tokenize(prediction));
  return rougeFromLcs(lcsLength(a, b), a.length, b.length);
}
