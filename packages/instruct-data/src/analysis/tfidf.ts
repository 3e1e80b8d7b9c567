import { unicodeTokenize } from "../rouge/rouge-tokenize.js";

/** A sparse L2-normalised vector: parallel term indices and weights. */
export interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

// Function words that carry no task meaning.
const ENGLISH_STOP_WORDS = new Set(
  (
    "a an the and or but of to in on for with about from by at as is are was were be been being it its this that these those " +
    "you your i me my we our they them their he she his her can could should would will do does did not no so than then there " +
    "which who whom what when where why how if into out up down over under more most some any each all such only own same too very " +
    "just also following given using based"
  ).split(" "),
);

export interface TfidfModel {
  terms: string[];
  vectors: SparseVector[];
}

/**
 * TF-IDF vectors of texts (as scikit-learn's TfidfVectorizer defaults: smooth idf, sublinear tf off,
 * L2 norm), over the `maxFeatures` most frequent terms; stop words out.
 */
export function tfidfVectors(
  texts: readonly string[],
  options: { maxFeatures?: number; minDocumentFrequency?: number } = {},
): TfidfModel {
  const docs = texts.map((t) => unicodeTokenize(t).filter((w) => !ENGLISH_STOP_WORDS.has(w) && w.length > 1));
  const documentFrequency = new Map<string, number>();
  for (const doc of docs)
    for (const term of new Set(doc)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const terms = [...documentFrequency.entries()]
    .filter(([, df]) => df >= (options.minDocumentFrequency ?? 1))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, options.maxFeatures ?? 5000)
    .map(([term]) => term);
  const termIndex = new Map(terms.map((t, i) => [t, i]));
  const n = texts.length;
  const idf = terms.map((t) => Math.log((1 + n) / (1 + (documentFrequency.get(t) as number))) + 1);
  const vectors = docs.map((doc) => {
    const counts = new Map<number, number>();
    for (const term of doc) {
      const index = termIndex.get(term);
      if (index !== undefined) counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    const indices = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const values = Float64Array.from(indices, (i) => (counts.get(i) as number) * (idf[i] as number));
    const norm = Math.hypot(...values) || 1;
    for (let k = 0; k < values.length; k++) values[k] = (values[k] as number) / norm;
    return { indices, values };
  });
  return { terms, vectors };
}
