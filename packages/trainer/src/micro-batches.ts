import * as tf from "@tensorflow/tfjs-core";
import { ValidationError } from "@llamats/core";
import { collateBatch } from "@llamats/instruct-data";
import { countLossTokens } from "@llamats/llama-model";

/** One training example: token ids and labels (-100 where not trained; labels default to the ids). */
export interface TrainingExample {
  input_ids: readonly number[];
  labels?: readonly number[];
}

/** A padded micro-batch as tensors, plus its token counts. Dispose with `disposeMicroBatch`. */
export interface MicroBatch {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  /** Unshifted labels [batch, seq] as the model's causal-LM loss takes them (-100 on the prompt and padding). */
  labels: tf.Tensor2D;
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
  return countLossTokens([example.labels ?? example.input_ids]);
}

/** Right-pads examples with instruct-data's collator (pad id, mask 0, label -100 on padding), as tensors. */
export function buildMicroBatch(examples: readonly TrainingExample[], padId: number): MicroBatch {
  const collated = collateBatch(
    examples.map((e) => ({ input_ids: e.input_ids, labels: e.labels ?? e.input_ids })),
    { padId, paddingSide: "right" },
  );
  const shape: [number, number] = [examples.length, collated.inputIds[0]?.length ?? 0];
  return {
    inputIds: tf.tensor2d(collated.inputIds, shape, "int32"),
    attentionMask: tf.tensor2d(collated.attentionMask, shape, "int32"),
    labels: tf.tensor2d(collated.labels, shape, "int32"),
    targetTokens: countLossTokens(collated.labels),
    inputTokens: examples.reduce((sum, e) => sum + e.input_ids.length, 0),
  };
}

export function disposeMicroBatch(batch: MicroBatch): void {
  tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
}

/** Splits `indices` into consecutive groups of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
