import type { LlamaConfig } from "./config.js";

/** The seven projections of a decoder layer, by their HF module path inside the layer. */
export const LAYER_LINEARS = [
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
] as const;
export type LayerLinearName = (typeof LAYER_LINEARS)[number];

/** [out, in] of one projection. */
function linearShape(config: LlamaConfig, name: LayerLinearName): [number, number] {
  const {
    hiddenSize: h,
    intermediateSize: ffn,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    headDim: d,
  } = config;
  switch (name) {
    case "self_attn.q_proj":
      return [heads * d, h];
    case "self_attn.k_proj":
      return [kvHeads * d, h];
    case "self_attn.v_proj":
      return [kvHeads * d, h];
    case "self_attn.o_proj":
      return [h, heads * d];
    case "mlp.gate_proj":
      return [ffn, h];
    case "mlp.up_proj":
      return [ffn, h];
    case "mlp.down_proj":
      return [h, ffn];
  }
}

function hasBias(config: LlamaConfig, name: LayerLinearName): boolean {
  return name.startsWith("self_attn.") ? config.attentionBias : config.mlpBias;
}

/** Every tensor a checkpoint of this config must hold, by HF name, with its shape (lm_head only when untied). */
export function expectedParameterShapes(config: LlamaConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  shapes.set("model.embed_tokens.weight", [config.vocabSize, config.hiddenSize]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const prefix = `model.layers.${i}`;
    shapes.set(`${prefix}.input_layernorm.weight`, [config.hiddenSize]);
    shapes.set(`${prefix}.post_attention_layernorm.weight`, [config.hiddenSize]);
    for (const name of LAYER_LINEARS) {
      const shape = linearShape(config, name);
      shapes.set(`${prefix}.${name}.weight`, shape);
      if (hasBias(config, name)) shapes.set(`${prefix}.${name}.bias`, [shape[0]]);
    }
  }
  shapes.set("model.norm.weight", [config.hiddenSize]);
  if (!config.tieWordEmbeddings) shapes.set("lm_head.weight", [config.vocabSize, config.hiddenSize]);
  return shapes;
}
