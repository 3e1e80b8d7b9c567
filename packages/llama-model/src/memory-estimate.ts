import * as tf from "@tensorflow/tfjs-core";
import { ResourceLimitError, maxBindingBytes, packedWeightBytes, type PackedFormat } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import { frozenWeightFormat, isPackedParameter, type FrozenWeightsOptions } from "./frozen-weights.js";
import { expectedParameterShapes } from "./parameter-shapes.js";
import { SPLITTABLE_PARAMETERS } from "./weight-chunks.js";

/** tfjs-backend-wasm's heap is a 32-bit wasm memory: 4 GiB at most, weights, activations and caches together. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Heap kept free on wasm for activations, the KV cache and tfjs's own allocations when judging whether weights fit. */
const WASM_HEADROOM_BYTES = 256 * 2 ** 20;

export interface ModelBytes {
  /** Bytes of every weight as the backend holds it. */
  total: number;
  /** The largest tensor that is never split into row chunks (the embedding and head are), and its bytes. */
  largest: { name: string; bytes: number };
}

/** The bytes a model's weights take on the backend under these options, from its config alone (nothing is read). */
export function estimateModelBytes(config: LlamaConfig, options: FrozenWeightsOptions = {}): ModelBytes {
  const format = frozenWeightFormat(options);
  let total = 0;
  let largest = { name: "", bytes: 0 };
  for (const [name, shape] of expectedParameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const packed = isPackedParameter(name, shape, options);
    const bytes = packed
      ? packedWeightBytes(
          { format: format as PackedFormat, outFeatures: shape[0], inFeatures: shape[1] },
          options.nf4BlockSize ?? 64,
        )
      : size * 4;
    total += bytes;
    const split = !packed && (SPLITTABLE_PARAMETERS as readonly string[]).includes(name);
    if (!split && bytes > largest.bytes) largest = { name, bytes };
  }
  return { total, largest };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

const WAY_OUT = "load it with --weights bf16|int8|nf4 (the library's weights option) to pack the projections";

/**
 * Fails at once, before anything is read, when the active backend cannot hold the model's weights: wasm's 4 GiB heap,
 * WebGPU's largest binding (maxStorageBufferBindingSize) for any one tensor. The cpu backend has no fixed limit.
 */
export function checkModelFits(config: LlamaConfig, options: FrozenWeightsOptions = {}): void {
  const backend = tf.getBackend();
  const { total, largest } = estimateModelBytes(config, options);
  const format = frozenWeightFormat(options);
  if (backend === "wasm" && total > WASM_HEAP_BYTES - WASM_HEADROOM_BYTES) {
    throw new ResourceLimitError(
      `This model's weights take ${gib(total)} as ${format}, but the wasm backend's heap holds at most ${gib(WASM_HEAP_BYTES)} (less ${WASM_HEADROOM_BYTES / 2 ** 20} MiB for activations); ${WAY_OUT}.`,
      { bytes: total, limit: WASM_HEAP_BYTES - WASM_HEADROOM_BYTES, backend },
    );
  }
  const binding = maxBindingBytes();
  if (largest.bytes > binding) {
    throw new ResourceLimitError(
      `Tensor ${largest.name} takes ${gib(largest.bytes)} as ${format}, more than one ${backend} binding holds (maxStorageBufferBindingSize ${gib(binding)}); ${WAY_OUT}.`,
      { bytes: largest.bytes, limit: binding, backend },
    );
  }
}

/**
 * Fails before a forward pass over `rows` positions (batch × seq) whose widest activation, the logits [rows, vocab]
 * (or the MLP's [rows, intermediate]), would not fit one WebGPU binding: Dawn would reject the binding and the pass
 * compute nothing. Unbounded on the CPU backends.
 */
export function checkActivationsFit(config: LlamaConfig, rows: number): void {
  const binding = maxBindingBytes();
  const widest = Math.max(config.vocabSize, config.intermediateSize);
  const bytes = rows * widest * 4;
  if (bytes <= binding) return;
  const what = widest === config.vocabSize ? "logits" : "MLP activations";
  const backend = tf.getBackend();
  throw new ResourceLimitError(
    `A forward pass over ${rows} positions makes ${what} [${rows}, ${widest}] of ${(bytes / 2 ** 20).toFixed(0)} MiB, more than one ${backend} binding holds (maxStorageBufferBindingSize ${(binding / 2 ** 20).toFixed(0)} MiB); pass at most ${Math.floor(binding / (widest * 4))} positions at once (fewer sequences per micro-batch, or shorter ones).`,
    { bytes, limit: binding, backend },
  );
}
