import { softmax } from "./logits-processors.js";

export { seededRandom } from "@llamats/core";

/** Index of the largest score (the first one on ties, like torch.argmax). */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Draws an id from softmax(logits) (already processed: -Infinity entries are never drawn). */
export function sampleFromLogits(logits: Float32Array, random: () => number): number {
  const probs = softmax(logits);
  const u = random();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}
