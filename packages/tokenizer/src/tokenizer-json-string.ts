// tokenizer.json text as the `tokenizers` library saves it: 2-space JSON with model.vocab in id order.
import { OrderedEntries, prettyJson } from "./pretty-json.js";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof OrderedEntries);
}

/** Vocab entries sorted by id, as `tokenizers` writes them (a plain object would put "0".."9" first). */
function vocabInIdOrder(vocab: Record<string, unknown>): OrderedEntries {
  const entries = Object.entries(vocab);
  const id = (v: unknown): number => (typeof v === "number" ? v : Number.POSITIVE_INFINITY);
  // Stable sort: entries with equal or non-numeric ids keep their order.
  entries.sort((a, b) => id(a[1]) - id(b[1]) || 0);
  return new OrderedEntries(entries);
}

/** Serializes a tokenizer.json object (e.g. from `sentencePieceToTokenizerJson`) the way transformers saves it. */
export function tokenizerJsonToString(tokenizerJson: Record<string, unknown>): string {
  const model = tokenizerJson.model;
  if (!isPlainObject(model) || !isPlainObject(model.vocab)) return prettyJson(tokenizerJson);
  return prettyJson({ ...tokenizerJson, model: { ...model, vocab: vocabInIdOrder(model.vocab) } });
}
