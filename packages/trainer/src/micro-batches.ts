import * as tf from "@tensorflow/tfjs-core";
import { ValidationError } from "@llamats/core";
import { IGNORE_INDEX, shiftedTargets } from "./cross-entropy.js";

/** One training example: token ids and labels (-100 where not trained; labels default to the ids). */
export interface TrainingExample {
  input_ids: readonly number[];
  labels?: readonly number[];
}

/** A padded micro-batch as tensors, plus what the loss needs. Dispose with `disposeMicroBatch`. */
export interface MicroBatch {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  targets: tf.Tensor1D;
  weights: tf.Tensor1D;
  /** Counted target tokens (after the causal shift). */
  targetTokens: number;
  /** Real (non-padding) input tokens, for throughput. */
  inputTokens: number;
}

/** Checks every example once, with its index in the message, before training starts. */
export function validateExamples(examples: readonly TrainingExample[], what: string): void {
  examples.forEach((example, index) => {
    const ids = example.input_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
      throw new ValidationError(
        `${what}[${index}]: input_ids must be a non-empty array of token ids (non-negative integers).`,
        { location: `${what}[${index}]` },
      );
    }
    if (example.labels !== undefined && example.labels.length !== ids.length) {
      throw new ValidationError(
        `${what}[${index}]: labels has ${example.labels.length} entries, input_ids has ${ids.length}.`,
        { location: `${what}[${index}]` },
      );
    }
  });
}

/** Counted target tokens of one example: labels other than -100 after the causal shift. */
export function countTargetTokens(example: TrainingExample): number {
  const labels = example.labels ?? example.input_ids;
  let count = 0;
  for (let t = 1; t < labels.length; t++) if (labels[t] !== IGNORE_INDEX) count += 1;
  return count;
}

/** Right-pads examples into tensors (pad id, mask 0, label -100 on padding), as the trajectory was made. */
export function buildMicroBatch(examples: readonly TrainingExample[], padId: number): MicroBatch {
  const seqLen = examples.reduce((max, e) => Math.max(max, e.input_ids.length), 0);
  const ids = new Int32Array(examples.length * seqLen).fill(padId);
  const mask = new Int32Array(examples.length * seqLen);
  const labels: number[][] = [];
  let inputTokens = 0;
  examples.forEach((example, b) => {
    ids.set(example.input_ids, b * seqLen);
    mask.fill(1, b * seqLen, b * seqLen + example.input_ids.length);
    inputTokens += example.input_ids.length;
    labels.push([...(example.labels ?? example.input_ids)]);
  });
  const { targets, weights, count } = shiftedTargets(labels, seqLen);
  return {
    inputIds: tf.tensor2d(ids, [examples.length, seqLen], "int32"),
    attentionMask: tf.tensor2d(mask, [examples.length, seqLen], "int32"),
    targets: tf.tensor1d(targets, "int32"),
    weights: tf.tensor1d(weights, "float32"),
    targetTokens: count,
    inputTokens,
  };
}

export function disposeMicroBatch(batch: MicroBatch): void {
  tf.dispose([batch.inputIds, batch.attentionMask, batch.targets, batch.weights]);
}

/** Splits `indices` into consecutive groups of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
