// general.* and llama.* metadata from a LlamaConfig, with the keys and value types of llama.cpp's converter.
import { ConfigError, type GgufValue } from "@llamats/core";
import type { LlamaConfig } from "../config.js";

/** The file types a GGUF export writes, with llama.cpp's `general.file_type` (LlamaFileType) for each. */
export const GGUF_FILE_TYPES = { f32: 0, f16: 1, q8_0: 7 } as const;
export type GgufFileType = keyof typeof GGUF_FILE_TYPES;

/** ggml's quantization format version (GGML_QNT_VERSION), which the converter records. */
const GGML_QUANT_VERSION = 2;

const u32 = (value: number): GgufValue => ({ type: "uint32", value });
const f32 = (value: number): GgufValue => ({ type: "float32", value });

export function modelMetadata(
  config: LlamaConfig,
  options: { name: string; fileType: GgufFileType },
): [string, GgufValue][] {
  const entries: [string, GgufValue][] = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.type", { type: "string", value: "model" }],
    ["general.name", { type: "string", value: options.name }],
    ["llama.block_count", u32(config.numHiddenLayers)],
    ["llama.context_length", u32(config.maxPositionEmbeddings)],
    ["llama.embedding_length", u32(config.hiddenSize)],
    ["llama.feed_forward_length", u32(config.intermediateSize)],
    ["llama.attention.head_count", u32(config.numAttentionHeads)],
    ["llama.attention.head_count_kv", u32(config.numKeyValueHeads)],
    ["llama.rope.freq_base", f32(config.ropeTheta)],
    ["llama.attention.layer_norm_rms_epsilon", f32(config.rmsNormEps)],
    ["llama.attention.key_length", u32(config.headDim)],
    ["llama.attention.value_length", u32(config.headDim)],
    ["general.file_type", u32(GGUF_FILE_TYPES[options.fileType])],
    ["llama.vocab_size", u32(config.vocabSize)],
    ["llama.rope.dimension_count", u32(config.headDim)],
  ];
  const scaling = config.ropeScaling;
  switch (scaling.ropeType) {
    case "default":
      break;
    case "linear":
      entries.push(["llama.rope.scaling.type", { type: "string", value: "linear" }]);
      entries.push(["llama.rope.scaling.factor", f32(scaling.factor)]);
      break;
    case "llama3":
      // llama.cpp takes Llama 3's scaling as per-frequency factors: the rope_freqs.weight tensor (ropeFrequencyFactors).
      break;
    case "dynamic":
      throw new ConfigError(
        `GGUF export: rope_scaling "dynamic" (dynamic NTK) has no llama.cpp equivalent; llama.cpp would run the model unscaled`,
        { key: "rope_scaling.rope_type" },
      );
  }
  entries.push(["general.quantization_version", u32(GGML_QUANT_VERSION)]);
  return entries;
}

/**
 * Llama 3's RoPE scaling as llama.cpp's per-frequency divisors (`rope_freqs.weight`, headDim/2 values), computed as
 * the converter does: 1 for short wavelengths, `factor` for long ones, a smooth ramp between.
 */
export function ropeFrequencyFactors(config: LlamaConfig): Float32Array | null {
  const s = config.ropeScaling;
  if (s.ropeType !== "llama3") return null;
  const dim = config.headDim;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const factors = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    // torch computes the frequencies in float32: base ** (arange / dim), then 1 / that.
    const freq = Math.fround(1 / Math.fround(Math.pow(config.ropeTheta, Math.fround((2 * i) / dim))));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) factors[i] = 1;
    else if (wavelen > lowFreqWavelen) factors[i] = s.factor;
    else {
      const smooth =
        (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return factors;
}
