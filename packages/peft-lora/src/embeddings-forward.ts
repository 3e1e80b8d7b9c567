import type * as tf from "@tensorflow/tfjs-core";
import type { LlamaForCausalLM } from "@llamats/llama-model";

export interface EmbeddingsForwardOptions {
  /** `[batch, seq, hidden]`, already embedded (virtual tokens included). */
  inputsEmbeds: tf.Tensor3D;
  attentionMask?: number[][] | null;
  labels?: number[][];
}

/**
 * LlamaForCausalLM's forward from input embeddings (transformers' `inputs_embeds`). Kept for callers of the
 * earlier API: it is now `model.forward(null, { inputsEmbeds, ... })`.
 */
export function forwardFromEmbeddings(
  model: LlamaForCausalLM,
  options: EmbeddingsForwardOptions,
): { logits: tf.Tensor3D; loss?: tf.Scalar } {
  return model.forward(null, {
    inputsEmbeds: options.inputsEmbeds,
    ...(options.attentionMask ? { attentionMask: options.attentionMask } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
}
