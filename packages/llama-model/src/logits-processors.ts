/** Sampling settings applied to one row's logits, in HF's order: repetition penalty, temperature, top-k, top-p. */
export interface LogitsProcessingOptions {
  repetitionPenalty?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** HF RepetitionPenaltyLogitsProcessor: every id already in the row is made less likely (divide if > 0, multiply if < 0). */
export function applyRepetitionPenalty(logits: Float32Array, seenIds: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seenIds)) {
    const score = logits[id];
    logits[id] = score < 0 ? score * penalty : score / penalty;
  }
}

/** HF TemperatureLogitsWarper. */
export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i] / temperature;
}

/** HF TopKLogitsWarper: everything below the k-th largest score becomes -Infinity (ties with it are kept). */
export function applyTopK(logits: Float32Array, topK: number): void {
  if (topK <= 0 || topK >= logits.length) return;
  const kth = Float32Array.from(logits).sort().reverse()[topK - 1];
  for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
}

/** HF TopPLogitsWarper: keeps the smallest set of top tokens whose probability reaches topP (at least one). */
export function applyTopP(logits: Float32Array, topP: number): void {
  if (topP >= 1) return;
  const order = Array.from(logits.keys()).sort((a, b) => logits[a] - logits[b]);
  const probs = softmax(logits);
  let cumulative = 0;
  // Ascending order: drop tokens while the mass below and including them stays within 1 - topP.
  for (let r = 0; r < order.length - 1; r++) {
    cumulative += probs[order[r]];
    if (cumulative <= 1 - topP) logits[order[r]] = -Infinity;
    else break;
  }
}

/** Probabilities in float64 (a stable softmax). */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Applies the configured processors in place. */
export function processLogits(
  logits: Float32Array,
  seenIds: Iterable<number>,
  options: LogitsProcessingOptions,
  sampling: boolean,
): void {
  if (options.repetitionPenalty !== undefined) applyRepetitionPenalty(logits, seenIds, options.repetitionPenalty);
  if (!sampling) return;
  if (options.temperature !== undefined) applyTemperature(logits, options.temperature);
  if (options.topK !== undefined) applyTopK(logits, options.topK);
  if (options.topP !== undefined) applyTopP(logits, options.topP);
}
