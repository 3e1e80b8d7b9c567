import { ConfigError } from "@llamats/core";

/** How rotary frequencies are scaled (transformers' `rope_type`). */
export type RopeScaling =
  | { ropeType: "default" }
  | { ropeType: "linear"; factor: number }
  | { ropeType: "dynamic"; factor: number; originalMaxPositionEmbeddings: number }
  | {
      ropeType: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** A validated LLaMA configuration (camelCase), made from either `config.json` form by `parseLlamaConfig`. */
export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
  /** The raw JSON it came from (written back by savePretrained, with our values applied). */
  raw: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function positiveInt(raw: Raw, key: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`config.json: "${key}" must be a positive integer, found ${describe(raw[key])}.`, { key });
  }
  return value;
}

function positiveNumber(source: Raw, key: string, where: string, fallback?: number): number {
  const value = source[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`config.json: "${where}" must be a positive number, found ${describe(source[key])}.`, {
      key: where,
    });
  }
  return value;
}

function bool(raw: Raw, key: string, fallback: boolean): boolean {
  const value = raw[key] ?? fallback;
  if (typeof value !== "boolean")
    throw new ConfigError(`config.json: "${key}" must be true or false, found ${describe(value)}.`, { key });
  return value;
}

function tokenId(raw: Raw, key: string): number | null {
  const value = raw[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new ConfigError(`config.json: "${key}" must be a token id or null, found ${describe(value)}.`, { key });
}

function eosIds(raw: Raw): number | number[] | null {
  const value = raw.eos_token_id;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0)) return value as number[];
    throw new ConfigError(
      `config.json: "eos_token_id" must be a token id or a list of them, found ${describe(value)}.`,
      { key: "eos_token_id" },
    );
  }
  return tokenId(raw, "eos_token_id");
}

/** Reads RoPE settings from the 5.x `rope_parameters` or the 4.x `rope_theta` + `rope_scaling` form. */
function parseRope(raw: Raw, maxPositionEmbeddings: number): { ropeTheta: number; ropeScaling: RopeScaling } {
  let params: Raw;
  let where: string;
  let ropeTheta: number;
  if (isRecord(raw.rope_parameters)) {
    params = raw.rope_parameters;
    where = "rope_parameters";
    ropeTheta = positiveNumber(
      params,
      "rope_theta",
      "rope_parameters.rope_theta",
      typeof raw.rope_theta === "number" ? raw.rope_theta : 10000,
    );
  } else if (raw.rope_parameters !== undefined && raw.rope_parameters !== null) {
    throw new ConfigError(`config.json: "rope_parameters" must be an object, found ${describe(raw.rope_parameters)}.`, {
      key: "rope_parameters",
    });
  } else {
    ropeTheta = positiveNumber(raw, "rope_theta", "rope_theta", 10000);
    if (raw.rope_scaling === undefined || raw.rope_scaling === null)
      return { ropeTheta, ropeScaling: { ropeType: "default" } };
    if (!isRecord(raw.rope_scaling)) {
      throw new ConfigError(
        `config.json: "rope_scaling" must be an object or null, found ${describe(raw.rope_scaling)}.`,
        { key: "rope_scaling" },
      );
    }
    params = raw.rope_scaling;
    where = "rope_scaling";
  }
  // Older 4.x files name the kind `type`; newer ones `rope_type`.
  const kind = params.rope_type ?? params.type ?? "default";
  const num = (key: string, fallback?: number): number => positiveNumber(params, key, `${where}.${key}`, fallback);
  switch (kind) {
    case "default":
      return { ropeTheta, ropeScaling: { ropeType: "default" } };
    case "linear":
      return { ropeTheta, ropeScaling: { ropeType: "linear", factor: num("factor") } };
    case "dynamic": {
      const originalMax =
        params.original_max_position_embeddings ?? raw.original_max_position_embeddings ?? maxPositionEmbeddings;
      return {
        ropeTheta,
        ropeScaling: {
          ropeType: "dynamic",
          factor: num("factor"),
          originalMaxPositionEmbeddings: positiveNumber(
            { v: originalMax },
            "v",
            `${where}.original_max_position_embeddings`,
          ),
        },
      };
    }
    case "llama3": {
      const lowFreqFactor = num("low_freq_factor");
      const highFreqFactor = num("high_freq_factor");
      if (highFreqFactor <= lowFreqFactor) {
        throw new ConfigError(
          `config.json: "${where}.high_freq_factor" (${highFreqFactor}) must be larger than low_freq_factor (${lowFreqFactor}).`,
          {
            key: `${where}.high_freq_factor`,
          },
        );
      }
      return {
        ropeTheta,
        ropeScaling: {
          ropeType: "llama3",
          factor: num("factor"),
          lowFreqFactor,
          highFreqFactor,
          originalMaxPositionEmbeddings: num("original_max_position_embeddings"),
        },
      };
    }
    default:
      throw new ConfigError(
        `config.json: "${where}.rope_type" is ${describe(kind)}, which llamats does not support (supported: default, linear, dynamic, llama3).`,
        { key: `${where}.rope_type` },
      );
  }
}

/** Validates a `config.json` object (transformers 4.x or 5.x form) into a LlamaConfig; errors name the key. */
export function parseLlamaConfig(raw: unknown): LlamaConfig {
  if (!isRecord(raw)) throw new ConfigError(`config.json must hold a JSON object, found ${describe(raw)}.`);
  if (raw.model_type !== undefined && raw.model_type !== "llama") {
    throw new ConfigError(
      `config.json: "model_type" is ${describe(raw.model_type)}; llamats loads "llama" models only.`,
      { key: "model_type" },
    );
  }
  const act = raw.hidden_act ?? "silu";
  if (act !== "silu")
    throw new ConfigError(`config.json: "hidden_act" is ${describe(act)}; LLaMA uses "silu", the only one supported.`, {
      key: "hidden_act",
    });
  const hiddenSize = positiveInt(raw, "hidden_size");
  const numAttentionHeads = positiveInt(raw, "num_attention_heads");
  const numKeyValueHeads = positiveInt(raw, "num_key_value_heads", numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new ConfigError(
      `config.json: "num_key_value_heads" (${numKeyValueHeads}) must divide num_attention_heads (${numAttentionHeads}).`,
      { key: "num_key_value_heads" },
    );
  }
  const defaultHeadDim = hiddenSize / numAttentionHeads;
  const headDim = positiveInt(raw, "head_dim", Number.isInteger(defaultHeadDim) ? defaultHeadDim : undefined);
  if (headDim % 2 !== 0)
    throw new ConfigError(`config.json: "head_dim" must be even for rotary embeddings, found ${headDim}.`, {
      key: "head_dim",
    });
  const partial = raw.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw new ConfigError(
      `config.json: "partial_rotary_factor" ${describe(partial)} is not supported (LLaMA rotates the whole head).`,
      { key: "partial_rotary_factor" },
    );
  }
  const maxPositionEmbeddings = positiveInt(raw, "max_position_embeddings", 2048);
  const { ropeTheta, ropeScaling } = parseRope(raw, maxPositionEmbeddings);
  const rmsNormEps = positiveNumber(raw, "rms_norm_eps", "rms_norm_eps", 1e-6);
  return {
    vocabSize: positiveInt(raw, "vocab_size"),
    hiddenSize,
    intermediateSize: positiveInt(raw, "intermediate_size"),
    numHiddenLayers: positiveInt(raw, "num_hidden_layers"),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    maxPositionEmbeddings,
    rmsNormEps,
    ropeTheta,
    ropeScaling,
    tieWordEmbeddings: bool(raw, "tie_word_embeddings", false),
    attentionBias: bool(raw, "attention_bias", false),
    mlpBias: bool(raw, "mlp_bias", false),
    initializerRange: positiveNumber(raw, "initializer_range", "initializer_range", 0.02),
    bosTokenId: tokenId(raw, "bos_token_id"),
    eosTokenId: eosIds(raw),
    padTokenId: tokenId(raw, "pad_token_id"),
    raw: { ...raw },
  };
}

/** True for an already-parsed LlamaConfig (as opposed to raw config.json contents). */
export function isLlamaConfig(value: unknown): value is LlamaConfig {
  return isRecord(value) && typeof value.hiddenSize === "number" && isRecord(value.ropeScaling);
}

/** Back to config.json form (transformers 4.x keys, which 4.x and 5.x both read). */
export function llamaConfigToJson(config: LlamaConfig): Record<string, unknown> {
  const { raw } = config;
  const json: Record<string, unknown> = { ...raw };
  delete json.rope_parameters;
  let ropeScaling: Record<string, unknown> | null = null;
  const s = config.ropeScaling;
  if (s.ropeType === "linear") ropeScaling = { rope_type: "linear", factor: s.factor };
  if (s.ropeType === "dynamic")
    ropeScaling = {
      rope_type: "dynamic",
      factor: s.factor,
      original_max_position_embeddings: s.originalMaxPositionEmbeddings,
    };
  if (s.ropeType === "llama3") {
    ropeScaling = {
      rope_type: "llama3",
      factor: s.factor,
      low_freq_factor: s.lowFreqFactor,
      high_freq_factor: s.highFreqFactor,
      original_max_position_embeddings: s.originalMaxPositionEmbeddings,
    };
  }
  Object.assign(json, {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: config.headDim,
    hidden_act: "silu",
    max_position_embeddings: config.maxPositionEmbeddings,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: ropeScaling,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.attentionBias,
    mlp_bias: config.mlpBias,
    initializer_range: config.initializerRange,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    pad_token_id: config.padTokenId,
  });
  return json;
}
