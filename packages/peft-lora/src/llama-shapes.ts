import { ConfigError } from "@llamats/core";

/** The sizes that fix every LLaMA weight shape. */
export interface LlamaShape {
  modelType: string;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
}

/** A linear layer by name with its sizes. */
export interface LinearShape {
  name: string;
  inFeatures: number;
  outFeatures: number;
  hasBias: boolean;
}

function pick(config: Record<string, unknown>, snake: string, camel: string): unknown {
  return config[snake] ?? config[camel];
}

function requireInteger(config: Record<string, unknown>, snake: string, camel: string): number {
  const value = pick(config, snake, camel);
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`LLaMA config: "${snake}" must be a positive integer; found ${JSON.stringify(value)}.`, {
      key: snake,
    });
  }
  return value;
}

// A parsed LlamaConfig keeps its config.json under `raw`.
function rawModelType(config: Record<string, unknown>): unknown {
  const raw = config.raw;
  return raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).model_type : undefined;
}

/** Reads the sizes from a `config.json` object (snake_case) or a parsed LlamaConfig (camelCase). */
export function llamaShapeOf(config: object): LlamaShape {
  const raw = config as Record<string, unknown>;
  const hiddenSize = requireInteger(raw, "hidden_size", "hiddenSize");
  const numAttentionHeads = requireInteger(raw, "num_attention_heads", "numAttentionHeads");
  const kvHeads = pick(raw, "num_key_value_heads", "numKeyValueHeads");
  const headDim = pick(raw, "head_dim", "headDim");
  const modelType = pick(raw, "model_type", "modelType") ?? rawModelType(raw) ?? "llama";
  return {
    modelType: typeof modelType === "string" ? modelType : JSON.stringify(modelType),
    hiddenSize,
    intermediateSize: requireInteger(raw, "intermediate_size", "intermediateSize"),
    numHiddenLayers: requireInteger(raw, "num_hidden_layers", "numHiddenLayers"),
    numAttentionHeads,
    numKeyValueHeads: typeof kvHeads === "number" ? kvHeads : numAttentionHeads,
    headDim: typeof headDim === "number" ? headDim : hiddenSize / numAttentionHeads,
    vocabSize: requireInteger(raw, "vocab_size", "vocabSize"),
    tieWordEmbeddings: pick(raw, "tie_word_embeddings", "tieWordEmbeddings") === true,
    attentionBias: pick(raw, "attention_bias", "attentionBias") === true,
    mlpBias: pick(raw, "mlp_bias", "mlpBias") === true,
  };
}

/** Every linear layer of a LlamaForCausalLM with its sizes, in model order, `lm_head` last. */
export function llamaLinearShapes(shape: LlamaShape): LinearShape[] {
  const { hiddenSize: h, intermediateSize: inter, headDim } = shape;
  const q = shape.numAttentionHeads * headDim;
  const kv = shape.numKeyValueHeads * headDim;
  const linears: LinearShape[] = [];
  for (let i = 0; i < shape.numHiddenLayers; i++) {
    const attn = `model.layers.${i}.self_attn`;
    const mlp = `model.layers.${i}.mlp`;
    linears.push(
      { name: `${attn}.q_proj`, inFeatures: h, outFeatures: q, hasBias: shape.attentionBias },
      { name: `${attn}.k_proj`, inFeatures: h, outFeatures: kv, hasBias: shape.attentionBias },
      { name: `${attn}.v_proj`, inFeatures: h, outFeatures: kv, hasBias: shape.attentionBias },
      { name: `${attn}.o_proj`, inFeatures: q, outFeatures: h, hasBias: shape.attentionBias },
      { name: `${mlp}.gate_proj`, inFeatures: h, outFeatures: inter, hasBias: shape.mlpBias },
      { name: `${mlp}.up_proj`, inFeatures: h, outFeatures: inter, hasBias: shape.mlpBias },
      { name: `${mlp}.down_proj`, inFeatures: inter, outFeatures: h, hasBias: shape.mlpBias },
    );
  }
  linears.push({ name: "lm_head", inFeatures: h, outFeatures: shape.vocabSize, hasBias: false });
  return linears;
}

/** Every parameter of a LlamaForCausalLM by HF name with its element count (tied heads counted once). */
export function llamaParameterSizes(shape: LlamaShape): Map<string, number> {
  const sizes = new Map<string, number>();
  sizes.set("model.embed_tokens.weight", shape.vocabSize * shape.hiddenSize);
  for (const linear of llamaLinearShapes(shape)) {
    if (linear.name === "lm_head" && shape.tieWordEmbeddings) continue;
    sizes.set(`${linear.name}.weight`, linear.inFeatures * linear.outFeatures);
    if (linear.hasBias) sizes.set(`${linear.name}.bias`, linear.outFeatures);
  }
  for (let i = 0; i < shape.numHiddenLayers; i++) {
    sizes.set(`model.layers.${i}.input_layernorm.weight`, shape.hiddenSize);
    sizes.set(`model.layers.${i}.post_attention_layernorm.weight`, shape.hiddenSize);
  }
  sizes.set("model.norm.weight", shape.hiddenSize);
  return sizes;
}
