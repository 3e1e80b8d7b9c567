// How far llama.cpp's choices are from our argmax when our model reads llama.cpp's own continuation (teacher forcing).
import * as tf from "@tensorflow/tfjs-core";
import type { LlamaForCausalLM } from "@llamats/llama-model";

/**
 * For each token llama.cpp chose after `prompt`, our logit margin relative to the row's logit range:
 * (max logit − logit of llama.cpp's token) / (max − min), 0 when our argmax is the same token.
 * One forward pass over prompt + continuation.
 */
export async function greedyMargins(
  model: LlamaForCausalLM,
  prompt: number[],
  continuation: number[],
): Promise<number[]> {
  if (continuation.length === 0) return [];
  const ids = [...prompt, ...continuation];
  const gaps = tf.tidy(() => {
    const { logits } = model.forward([ids]);
    const vocab = logits.shape[2];
    const rows = tf.reshape(tf.slice(logits, [0, prompt.length - 1, 0], [1, continuation.length, vocab]), [
      continuation.length,
      vocab,
    ]);
    const picked = tf.sum(tf.mul(rows, tf.oneHot(tf.tensor1d(continuation, "int32"), vocab)), 1);
    const top = tf.max(rows, 1);
    return tf.div(tf.sub(top, picked), tf.sub(top, tf.min(rows, 1)));
  });
  const values = Array.from((await gaps.data()) as Float32Array);
  gaps.dispose();
  return values;
}
