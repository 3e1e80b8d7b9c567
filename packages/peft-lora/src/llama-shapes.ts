import { ConfigError } from "@llamats/core";
import { expectedParameterShapes, LAYER_LINEARS, linearHasBias, linearShape } from "@llamats/llama-model";

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

/** Every linear layer of a LlamaForCausalLM with its sizes, in model order, `lm_head` last (llama-model's shapes). */
export function llamaLinearShapes(shape: LlamaShape): LinearShape[] {
  const linears: LinearShape[] = [];
  for (let i = 0; i < shape.numHiddenLayers; i++) {
    for (const name of LAYER_LINEARS) {
      const [outFeatures, inFeatures] = linearShape(shape, name);
      linears.push({ name: `model.layers.${i}.${name}`, inFeatures, outFeatures, hasBias: linearHasBias(shape, name) });
    }
  }
  linears.push({ name: "lm_head", inFeatures: shape.hiddenSize, outFeatures: shape.vocabSize, hasBias: false });
  return linears;
}

/** Every parameter of a LlamaForCausalLM by HF name with its element count (tied heads counted once). */
export function llamaParameterSizes(shape: LlamaShape): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [name, dims] of expectedParameterShapes(shape))
    sizes.set(
      name,
      dims.reduce((a, b) => a * b, 1),
    );
  return sizes;
}
