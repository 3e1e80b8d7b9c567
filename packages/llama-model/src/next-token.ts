import * as tf from "@tensorflow/tfjs-core";
import type { LogitsProcessingOptions } from "./logits-processors.js";

export interface NextTokenOptions extends LogitsProcessingOptions {
  /** Draw from the processed distribution (HF's do_sample); otherwise the argmax. */
  sampling: boolean;
  /** Ids already in each row, for the repetition penalty. */
  seenIds: readonly (readonly number[])[];
  /** Uniform draws in [0, 1), one per row, used when sampling. */
  uniforms?: readonly number[];
}

/** HF RepetitionPenaltyLogitsProcessor on the device: the scores of seen ids are divided (> 0) or multiplied (< 0). */
function repetitionPenalty(logits: tf.Tensor2D, seenIds: readonly (readonly number[])[], penalty: number): tf.Tensor2D {
  const pairs: number[] = [];
  seenIds.forEach((row, b) => {
    for (const id of new Set(row)) pairs.push(b, id);
  });
  if (pairs.length === 0 || penalty === 1) return logits;
  const indices = tf.tensor2d(pairs, [pairs.length / 2, 2], "int32");
  const scores = tf.gatherND(logits, indices) as tf.Tensor1D;
  const penalized = tf.where(tf.less(scores, 0), tf.mul(scores, penalty), tf.div(scores, penalty));
  return tf.add<tf.Tensor2D>(logits, tf.scatterND(indices, tf.sub(penalized, scores), logits.shape));
}

/** HF TopKLogitsWarper: scores below the k-th largest become -Infinity (ties with it stay). */
function topK(logits: tf.Tensor2D, k: number): tf.Tensor2D {
  const vocab = logits.shape[1];
  if (k <= 0 || k >= vocab) return logits;
  const kth = tf.slice(tf.topk(logits, k).values, [0, k - 1], [-1, 1]);
  return tf.where<tf.Tensor2D>(
    tf.less(logits, tf.broadcastTo(kth, logits.shape)),
    tf.fill(logits.shape, -Infinity),
    logits,
  );
}

/**
 * HF TopPLogitsWarper as the host version orders tokens (ascending score, ties by ascending id): a token goes when
 * the mass after it in that order already reaches p, so the top token always stays. Reversing the vocabulary
 * before topk makes equal scores come out highest id first, the same order read from the other end.
 */
function topP(logits: tf.Tensor2D, p: number): tf.Tensor2D {
  if (p >= 1) return logits;
  const [batch, vocab] = logits.shape;
  const sorted = tf.topk(tf.reverse(logits, 1), vocab);
  const after = tf.cumsum(tf.softmax(sorted.values), 1, true);
  const kept = tf.sum(tf.cast(tf.less(after, tf.fill(after.shape, p)), "int32"), 1, true);
  // The last kept token in sorted order: its score and id bound what stays.
  // Flat positions of each row's last kept token (gather with batchDims is unreliable on tfjs-wasm).
  const lastKept = tf.add(
    tf.sub(kept, tf.scalar(1, "int32")),
    tf.reshape(tf.range(0, batch * vocab, vocab, "int32"), [batch, 1]),
  );
  const boundScore = tf.gather(tf.reshape(sorted.values, [-1]), lastKept);
  const boundId = tf.sub(tf.scalar(vocab - 1, "int32"), tf.gather(tf.reshape(sorted.indices, [-1]), lastKept));
  const ids = tf.broadcastTo(tf.range(0, vocab, 1, "int32"), [batch, vocab]);
  const [score, id] = [tf.broadcastTo(boundScore, [batch, vocab]), tf.broadcastTo(boundId, [batch, vocab])];
  const dropped = tf.logicalOr(tf.less(logits, score), tf.logicalAnd(tf.equal(logits, score), tf.less(ids, id)));
  return tf.where<tf.Tensor2D>(dropped, tf.fill(logits.shape, -Infinity), logits);
}

/** Inverse-CDF draw per row: the first id whose cumulative probability exceeds u (never an id of probability 0). */
function sample(logits: tf.Tensor2D, uniforms: readonly number[]): tf.Tensor1D {
  const [batch, vocab] = logits.shape;
  const probs = tf.softmax(logits);
  const cumulative = tf.cumsum(probs, 1);
  const u = tf.tensor2d(uniforms.slice(0, batch), [batch, 1]);
  const below = tf.sum(tf.cast(tf.lessEqual(cumulative, tf.broadcastTo(u, [batch, vocab])), "int32"), 1);
  // Rounding can leave the total mass under u: fall back to the last id that can be drawn.
  const ids = tf.range(0, vocab, 1, "int32");
  const lastDrawable = tf.max(
    tf.where(
      tf.greater(probs, tf.zeros([batch, vocab])),
      tf.broadcastTo(ids, [batch, vocab]),
      tf.fill([batch, vocab], -1, "int32"),
    ),
    1,
  );
  return tf.minimum<tf.Tensor1D>(below, lastDrawable);
}

/**
 * The next id of each row, chosen on the device from last-position logits [batch, vocab]: repetition penalty,
 * then (when sampling) temperature, top-k, top-p and a draw, in HF's order. Only the [batch] ids leave the device.
 */
export function chooseNextTokens(logits: tf.Tensor2D, options: NextTokenOptions): tf.Tensor1D {
  return tf.tidy(() => {
    let scores = logits;
    if (options.repetitionPenalty !== undefined)
      scores = repetitionPenalty(scores, options.seenIds, options.repetitionPenalty);
    // The argmax kernel (one pass; an exact tie of float logits, where backends may pick different ids, is rare).
    if (!options.sampling) return tf.cast(tf.argMax(scores, -1), "int32") as tf.Tensor1D;
    if (options.temperature !== undefined && options.temperature !== 1) scores = tf.div(scores, options.temperature);
    if (options.topK !== undefined) scores = topK(scores, options.topK);
    if (options.topP !== undefined) scores = topP(scores, options.topP);
    if (!options.uniforms || options.uniforms.length < scores.shape[0])
      throw new RangeError("chooseNextTokens: sampling needs one uniform draw per row.");
    return sample(scores, options.uniforms);
  });
}
