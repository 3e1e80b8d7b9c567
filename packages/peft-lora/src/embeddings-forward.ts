import * as tf from '@tensorflow/tfjs-core';
import { buildAttentionMask, causalLmLoss, decoderLayer, rmsNorm, ropeTables, rotateHalfMatrix, type LlamaForCausalLM } from '@llamats/llama-model';

export interface EmbeddingsForwardOptions {
  /** `[batch, seq, hidden]`, already embedded (virtual tokens included). */
  inputsEmbeds: tf.Tensor3D;
  attentionMask?: number[][] | null;
  labels?: number[][];
}

/**
 * LlamaForCausalLM's forward from input embeddings (transformers' `inputs_embeds`), assembled from the model's
 * exported blocks and its linear layers; LlamaForCausalLM.forward only takes ids.
 */
export function forwardFromEmbeddings(model: LlamaForCausalLM, options: EmbeddingsForwardOptions): { logits: tf.Tensor3D; loss?: tf.Scalar } {
  const { config } = model;
  const params = model.namedParameters();
  const param = (name: string): tf.Variable => params.get(name)!;
  return tf.tidy(() => {
    const [batch, seq] = options.inputsEmbeds.shape;
    const positions = Array.from({ length: batch }, () => Array.from({ length: seq }, (_, t) => t));
    const { cos, sin } = ropeTables(config, positions);
    const mask = buildAttentionMask({ batch, queryLen: seq, pastLen: 0, attentionMask: options.attentionMask ?? null });
    const rotateHalf = rotateHalfMatrix(config.headDim);
    let hidden = options.inputsEmbeds;
    for (let i = 0; i < config.numHiddenLayers; i++) {
      const prefix = `model.layers.${i}`;
      const linear = (name: string) => model.getLinear(`${prefix}.${name}`);
      hidden = decoderLayer(
        hidden,
        {
          inputLayernorm: param(`${prefix}.input_layernorm.weight`),
          postAttentionLayernorm: param(`${prefix}.post_attention_layernorm.weight`),
          attention: { q: linear('self_attn.q_proj'), k: linear('self_attn.k_proj'), v: linear('self_attn.v_proj'), o: linear('self_attn.o_proj') },
          mlp: { gate: linear('mlp.gate_proj'), up: linear('mlp.up_proj'), down: linear('mlp.down_proj') },
        },
        { config, cos, sin, rotateHalf, mask },
      );
    }
    const normed = rmsNorm(hidden, param('model.norm.weight'), config.rmsNormEps) as tf.Tensor3D;
    const logits = model.getLinear('lm_head').apply(normed) as tf.Tensor3D;
    if (options.labels === undefined) return { logits };
    return { logits, loss: causalLmLoss(logits, options.labels) };
  });
}
