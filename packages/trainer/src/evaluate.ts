import * as tf from "@tensorflow/tfjs-core";
import { causalLmLoss } from "@llamats/llama-model";
import { buildMicroBatch, chunk, disposeMicroBatch, type TrainingExample } from "./micro-batches.js";
import type { TrainableModel } from "./trainable-model.js";

export interface EvalResult {
  /** Token-weighted mean cross-entropy over the whole set. */
  loss: number;
  perplexity: number;
  /** Counted target tokens. */
  tokens: number;
}

export interface EvaluateOptions {
  model: TrainableModel;
  examples: readonly TrainingExample[];
  batchSize: number;
  padId: number;
  signal?: AbortSignal;
}

/** Loss and perplexity of `examples`, without gradients (dropout off during it). */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const { model, examples, batchSize, padId } = options;
  model.eval?.();
  let lossSum = 0;
  let tokens = 0;
  try {
    for (const group of chunk(examples, batchSize)) {
      if (options.signal?.aborted) break;
      const batch = buildMicroBatch(group, padId);
      const sum = tf.tidy(() =>
        causalLmLoss(model.forward(batch.inputIds, { attentionMask: batch.attentionMask }).logits, batch.labels, {
          reduction: "sum",
        }),
      );
      lossSum += (await sum.data())[0];
      tokens += batch.targetTokens;
      sum.dispose();
      disposeMicroBatch(batch);
    }
  } finally {
    model.train?.();
  }
  const loss = tokens > 0 ? lossSum / tokens : Number.NaN;
  return { loss, perplexity: Math.exp(loss), tokens };
}
