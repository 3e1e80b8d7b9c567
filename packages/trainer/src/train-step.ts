import * as tf from "@tensorflow/tfjs-core";
import { frugalVariableGrads } from "@llamats/core";
import { causalLmLoss } from "@llamats/llama-model";
import type { MicroBatch } from "./micro-batches.js";
import type { CausalLM } from "./trainable-model.js";

export interface StepGradients {
  /** The step's loss on the device (summed token cross-entropy over all its micro-batches / its counted target tokens); the caller disposes it. */
  loss: tf.Scalar;
  /** Counted target tokens of the step. */
  targetTokens: number;
  /** Accumulated gradients by variable name (the caller disposes them). */
  grads: Map<string, tf.Tensor>;
}

/**
 * Forward + backward over every micro-batch of one optimizer step, accumulating gradients.
 * Each micro-batch's loss is divided by the whole step's token count, so the sum over
 * micro-batches is the token-weighted mean of the step (not a mean of micro-batch means).
 */
export function computeStepGradients(
  model: CausalLM,
  microBatches: readonly MicroBatch[],
  variables: ReadonlyMap<string, tf.Variable>,
): StepGradients {
  const targetTokens = microBatches.reduce((sum, b) => sum + b.targetTokens, 0);
  const names = [...variables.keys()];
  const varList = names.map((name) => variables.get(name) as tf.Variable);
  const grads = new Map<string, tf.Tensor>();
  let lossSum: tf.Scalar = tf.scalar(0);
  // A step whose every label is ignored contributes zero gradient (and a 0 loss) rather than NaN.
  const normalizer = Math.max(1, targetTokens);
  for (const batch of microBatches) {
    const { value, grads: batchGrads } = frugalVariableGrads(() => {
      const { logits } = model.forward(batch.inputIds, { attentionMask: batch.attentionMask });
      return tf.div<tf.Scalar>(causalLmLoss(logits, batch.labels, { reduction: "sum" }), normalizer);
    }, varList);
    const nextLoss = tf.add<tf.Scalar>(lossSum, value);
    tf.dispose([lossSum, value]);
    lossSum = nextLoss;
    for (const name of names) {
      const variable = variables.get(name) as tf.Variable;
      // A variable the loss does not reach (e.g. a frozen branch) gets a zero gradient.
      const g = batchGrads[variable.name] ?? tf.zerosLike(variable);
      const previous = grads.get(name);
      if (previous) {
        grads.set(name, tf.add(previous, g));
        tf.dispose([previous, g]);
      } else {
        grads.set(name, g);
      }
    }
  }
  return { loss: lossSum, targetTokens, grads };
}
