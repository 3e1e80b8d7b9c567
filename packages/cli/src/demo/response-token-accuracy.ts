import * as tf from "@tensorflow/tfjs-core";
import { IGNORE_INDEX } from "@llamats/core";
import { shiftLabels } from "@llamats/llama-model";
import { buildMicroBatch, disposeMicroBatch, type TrainableModel, type TrainingExample } from "@llamats/trainer";

const BATCH = 16;

/** Teacher-forced next-token accuracy on the response tokens: how often greedy decoding's next pick is the reference's. */
export async function responseTokenAccuracy(
  model: Pick<TrainableModel, "forward">,
  examples: readonly TrainingExample[],
  padId: number,
): Promise<number> {
  let correct = 0;
  let total = 0;
  for (let i = 0; i < examples.length; i += BATCH) {
    const batch = buildMicroBatch(examples.slice(i, i + BATCH), padId);
    const hits = tf.tidy(() => {
      const logits = model.forward(batch.inputIds, { attentionMask: batch.attentionMask }).logits;
      const vocab = logits.shape[2];
      const predicted = tf.argMax(tf.reshape(logits, [-1, vocab]), 1);
      const targets = shiftLabels(batch.labels);
      const counted = tf.notEqual(targets, tf.fill(targets.shape, IGNORE_INDEX, "int32"));
      return tf.sum(tf.cast(tf.logicalAnd(tf.equal(predicted, targets), counted), "float32"));
    });
    correct += (await hits.data())[0];
    total += batch.targetTokens;
    hits.dispose();
    disposeMicroBatch(batch);
  }
  return total === 0 ? 0 : correct / total;
}
