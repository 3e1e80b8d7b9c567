import type * as tf from "@tensorflow/tfjs-core";
import { LlamatsError, type PackedWeight } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import type { FrozenWeightsOptions } from "./frozen-weights.js";
import { ChunkedLinear } from "./chunked-linear.js";
import { EmbeddingTable, type TokenEmbedding } from "./embedding-table.js";
import { Linear } from "./linear.js";
import { PackedEmbeddingTable } from "./packed-embedding-table.js";
import { PackedLinear } from "./packed-linear.js";
import { chunksOf, resolveMaxTensorBytes, splitParameter, SPLITTABLE_PARAMETERS } from "./weight-chunks.js";

export interface LlamaModelOptions extends FrozenWeightsOptions {
  /**
   * Largest float32 tensor to keep whole; `model.embed_tokens.weight` and `lm_head.weight` bigger than this
   * are held as row chunks along the vocabulary. Default: on webgpu the device's maxStorageBufferBindingSize
   * (2 GiB − 1 on common GPUs, 128 MiB on Mesa's lavapipe), no limit on other backends.
   */
  maxTensorBytes?: number;
}

/**
 * The embedding table and output head over the model's parameters, split where they exceed the limit; packed ones
 * (see isPackedParameter) are whole, and a packed tied embedding is the head too.
 */
export function buildVocabLayers(
  config: LlamaConfig,
  params: Map<string, tf.Variable>,
  options: LlamaModelOptions,
  packed: ReadonlyMap<string, PackedWeight> = new Map(),
): { embedding: TokenEmbedding; head: Linear | ChunkedLinear | PackedLinear } {
  const maxBytes = resolveMaxTensorBytes(options.maxTensorBytes);
  for (const name of SPLITTABLE_PARAMETERS) splitParameter(params, name, maxBytes);
  const parts = (name: string): tf.Variable[] => {
    const whole = params.get(name);
    const chunks = whole ? [whole] : chunksOf(params, name);
    if (chunks.length === 0) throw new LlamatsError(`The model has no parameter "${name}" (whole or in row chunks).`);
    return chunks;
  };
  const packedEmbedding = packed.get("model.embed_tokens.weight");
  const table = packedEmbedding ? null : new EmbeddingTable(parts("model.embed_tokens.weight"));
  const embedding = table ?? new PackedEmbeddingTable(packedEmbedding!);
  const packedHead = config.tieWordEmbeddings ? packedEmbedding : packed.get("lm_head.weight");
  if (packedHead) return { embedding, head: new PackedLinear(packedHead) };
  // Tied embeddings: the head reads the very same chunks.
  const headParts = config.tieWordEmbeddings && table ? table.chunks : parts("lm_head.weight");
  const head = headParts.length === 1 ? new Linear(headParts[0]) : new ChunkedLinear(headParts);
  return { embedding, head };
}
