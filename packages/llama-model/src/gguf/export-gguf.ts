// A LLaMA model as a llama.cpp GGUF file: llama.cpp's tensor names, Q/K rows in its rotary order, metadata from the
// config and the tokenizer, each tensor read from the model and written one at a time.
import type * as tf from "@tensorflow/tfjs-core";
import { ConfigError, writeGguf, type GgmlTensorType, type GgufTensorSource } from "@llamats/core";
import { vocabularyOf, type Tokenizer, type TokenizerVocabulary } from "@llamats/tokenizer";
import type { LlamaConfig } from "../config.js";
import { isPlainLinear, type LinearLayer } from "../linear.js";
import { expectedParameterShapes, LAYER_LINEARS } from "../parameter-shapes.js";
import { chunksOf, joinedValues } from "../weight-chunks.js";
import { modelMetadata, ropeFrequencyFactors, type GgufFileType } from "./model-metadata.js";
import { interleaveRotaryRows } from "./rotary-rows.js";
import { ggufTensorName } from "./tensor-names.js";
import { tokenizerMetadata } from "./tokenizer-metadata.js";

/** What the export reads from a model: LlamaForCausalLM is one. */
export interface GgufExportableModel {
  readonly config: LlamaConfig;
  namedParameters(): Map<string, tf.Variable>;
  getLinear(name: string): LinearLayer;
}

export interface ExportGgufOptions {
  /** The .gguf file to write (atomically). */
  path: string;
  /** The model's tokenizer: a SentencePiece tokenizer.model, or a byte-level BPE tokenizer.json. */
  tokenizer?: Tokenizer;
  /** The vocabulary as data instead of a tokenizer (e.g. placeholder tokens for a benchmark's random model). */
  vocabulary?: TokenizerVocabulary;
  /** Weight type of the matrices (default f32); norms and other 1-D tensors stay f32 as in llama.cpp's converter. */
  type?: GgufFileType;
  /** `general.name` (default "llama"). */
  name?: string;
  onProgress?: (progress: { tensor: string; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/**
 * The stored type of one tensor, as llama.cpp's converter picks it: 1-D tensors and norms f32; matrices the file's
 * type, except that a Q8_0 matrix whose rows are not a multiple of 32 values falls back to f16.
 */
export function ggufTensorType(ggufName: string, shape: readonly number[], fileType: GgufFileType): GgmlTensorType {
  if (fileType === "f32" || shape.length <= 1 || ggufName.endsWith("_norm.weight")) return "F32";
  if (fileType === "f16") return "F16";
  return shape[shape.length - 1] % 32 === 0 ? "Q8_0" : "F16";
}

async function hfValues(parameters: Map<string, tf.Variable>, name: string): Promise<Float32Array> {
  const whole = parameters.get(name);
  if (whole) return (await whole.data()) as Float32Array;
  const parts = chunksOf(parameters, name);
  if (parts.length === 0) throw new ConfigError(`GGUF export: the model has no parameter "${name}"`, { key: name });
  return (await joinedValues(parts)).data;
}

function checkMerged(model: GgufExportableModel): void {
  for (let i = 0; i < model.config.numHiddenLayers; i++) {
    for (const linear of LAYER_LINEARS) {
      const name = `model.layers.${i}.${linear}`;
      if (!isPlainLinear(model.getLinear(name))) {
        throw new ConfigError(
          `GGUF export: ${name} is not a plain linear layer (an adapter or quantized layer wraps it); ` +
            `merge the adapter first (PeftModel.mergeAndUnload()) so the file holds the weights the model runs with`,
          { key: name },
        );
      }
    }
  }
}

/** The GGUF tensors of a model: rope_freqs (Llama 3 scaling) first, then the checkpoint's tensors in HF order. */
export function ggufTensors(model: GgufExportableModel, fileType: GgufFileType): GgufTensorSource[] {
  const config = model.config;
  const parameters = model.namedParameters();
  const tensors: GgufTensorSource[] = [];
  const factors = ropeFrequencyFactors(config);
  if (factors) {
    tensors.push({
      name: "rope_freqs.weight",
      shape: [factors.length],
      type: "F32",
      values: () => Promise.resolve(factors),
    });
  }
  for (const [hfName, shape] of expectedParameterShapes(config)) {
    const name = ggufTensorName(hfName);
    const heads = /\.q_proj\./.test(hfName)
      ? config.numAttentionHeads
      : /\.k_proj\./.test(hfName)
        ? config.numKeyValueHeads
        : 0;
    const cols = shape.length === 2 ? shape[1] : 1;
    tensors.push({
      name,
      shape,
      type: ggufTensorType(name, shape, fileType),
      values: async () => {
        const values = await hfValues(parameters, hfName);
        return heads > 0 ? interleaveRotaryRows(values, heads, cols) : values;
      },
    });
  }
  return tensors;
}

/**
 * Writes a llama-architecture GGUF v3 file that llama.cpp (and Ollama, LM Studio, node-llama-cpp) loads: metadata as
 * llama.cpp's convert_hf_to_gguf.py writes it for LLaMA-family models, the tokenizer, special ids and chat template.
 */
export async function exportGguf(model: GgufExportableModel, options: ExportGgufOptions): Promise<void> {
  const fileType = options.type ?? "f32";
  if ((options.tokenizer === undefined) === (options.vocabulary === undefined)) {
    throw new ConfigError("GGUF export: give the model's tokenizer or its vocabulary (one of the two)", {
      key: "tokenizer",
    });
  }
  checkMerged(model);
  const vocabulary = options.vocabulary ?? vocabularyOf(options.tokenizer!);
  const metadata = [
    ...modelMetadata(model.config, { name: options.name ?? "llama", fileType }),
    ...tokenizerMetadata(vocabulary, model.config.vocabSize),
  ];
  await writeGguf(options.path, {
    metadata,
    tensors: ggufTensors(model, fileType),
    onProgress: options.onProgress,
    signal: options.signal,
  });
}
