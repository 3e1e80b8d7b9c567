import * as tf from "@tensorflow/tfjs-core";
import { PackingScratch, SeededRng, packedWeightTensors, packingRowChunks, type PackedWeight } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import { isPackedParameter, parameterWriter, type FrozenWeightsOptions } from "./frozen-weights.js";
import { expectedParameterShapes } from "./parameter-shapes.js";
import { chunkName, resolveMaxTensorBytes, rowChunks, SPLITTABLE_PARAMETERS } from "./weight-chunks.js";

/**
 * Fills `values` with normal(0, std) draws from a seeded generator (Box–Muller, a pair per two draws): the same on
 * every backend and platform, and, filling even-length chunks in turn from one generator, the same as one fill.
 */
function fillNormal(values: Float32Array, std: number, rng: SeededRng): Float32Array {
  const count = values.length;
  for (let i = 0; i < count; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    values[i] = radius * Math.cos(angle);
    if (i + 1 < count) values[i + 1] = radius * Math.sin(angle);
  }
  return values;
}

/**
 * HF's _init_weights: weights ~ normal(0, initializer_range), biases 0, RMSNorm weights 1, the pad row of the
 * embedding 0. Values are drawn on the host, and the embedding and head go to the backend already in the row
 * chunks their size needs (maxTensorBytes, by default the backend's binding limit): a whole 32000 × 2048 table
 * would be bound by one kernel, which WebGPU refuses past its limit. With `packing`, the projections its options
 * name are packed (bf16/int8/nf4) into `packing.into` instead, one tensor at a time.
 */
export function initialParameters(
  config: LlamaConfig,
  seed?: number,
  maxTensorBytes?: number,
  packing?: { options: FrozenWeightsOptions; into: Map<string, PackedWeight> },
): Map<string, tf.Variable> {
  const maxBytes = resolveMaxTensorBytes(maxTensorBytes);
  const base = seed ?? Math.floor(Math.random() * 2 ** 31);
  const params = new Map<string, tf.Variable>();
  let index = 0;
  const scratch = new PackingScratch();
  for (const [name, shape] of expectedParameterShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    // A distinct seed per tensor keeps tensors independent while the whole model stays reproducible.
    const rng = new SeededRng(base + 7919 * index++);
    const padRow = name === "model.embed_tokens.weight" && config.padTokenId !== null ? config.padTokenId : -1;
    if (packing && isPackedParameter(name, shape, packing.options)) {
      // Drawn a chunk of rows at a time into one reused buffer (packed rows are even, so the draws match one fill).
      const [rows, cols] = shape;
      const writer = parameterWriter(name, shape, packing.options);
      for (const [start, end] of packingRowChunks(rows, cols)) {
        const chunk = fillNormal(scratch.rowsOf((end - start) * cols), config.initializerRange, rng);
        if (padRow >= start && padRow < end) chunk.fill(0, (padRow - start) * cols, (padRow - start + 1) * cols);
        writer.writeRows(chunk);
      }
      packing.into.set(name, packedWeightTensors(writer.finish()));
      continue;
    }
    let values: Float32Array;
    if (name.endsWith("norm.weight")) values = new Float32Array(count).fill(1);
    else if (name.endsWith(".bias")) values = new Float32Array(count);
    else {
      values = fillNormal(new Float32Array(count), config.initializerRange, rng);
      if (padRow >= 0 && padRow < config.vocabSize)
        values.fill(0, padRow * config.hiddenSize, (padRow + 1) * config.hiddenSize);
    }
    const [rows, cols] = shape;
    const ranges = (SPLITTABLE_PARAMETERS as readonly string[]).includes(name)
      ? rowChunks(rows, cols, maxBytes)
      : [[0, rows] as [number, number]];
    for (const range of ranges) {
      const part = tf.tensor(values.subarray(range[0] * (cols ?? 1), range[1] * (cols ?? 1)), [
        range[1] - range[0],
        ...shape.slice(1),
      ]);
      params.set(ranges.length === 1 ? name : chunkName(name, range), tf.variable(part, true));
      part.dispose();
    }
  }
  return params;
}
