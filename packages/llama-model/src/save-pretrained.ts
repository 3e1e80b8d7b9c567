import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { unpackWeight, writeFileAtomic, writeSafetensors, type PackedWeight, type TensorToWrite } from "@llamats/core";
import { llamaConfigToJson, type LlamaConfig } from "./config.js";
import { chunksOf, joinedValues, parseChunkName } from "./weight-chunks.js";

export interface SavePretrainedOptions {
  /** Stored dtype of the weights (default float32). */
  dtype?: "float32" | "float16";
}

/** A packed projection as float32 values, through core's reference dequantizers (one tensor at a time). */
export async function dequantizedValues(weight: PackedWeight): Promise<Float32Array> {
  const { words, scales, ...shape } = weight;
  return unpackWeight({
    ...shape,
    words: (await words.data()) as Int32Array,
    scales: (await scales.data()) as Float32Array,
  });
}

/**
 * config.json + model.safetensors with HF names; both written atomically. Packed projections (bf16/int8/nf4) are
 * written dequantized, as float32 or float16 (as PEFT's merge_and_unload does for a 4-bit base).
 */
export async function savePretrained(
  dir: string,
  options: {
    config: LlamaConfig;
    parameters: Map<string, tf.Variable>;
    packed?: Map<string, PackedWeight>;
    dtype: "float32" | "float16";
  },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  const dtype = options.dtype === "float16" ? "F16" : "F32";
  for (const [key, v] of options.parameters) {
    // Row chunks are written as the one HF tensor they split, rows in order.
    const chunk = parseChunkName(key);
    const name = chunk?.name ?? key;
    if ((name === "lm_head.weight" && options.config.tieWordEmbeddings) || name in tensors) continue;
    const { shape, data } = chunk
      ? await joinedValues(chunksOf(options.parameters, name))
      : { shape: [...v.shape], data: (await v.data()) as Float32Array };
    tensors[name] = { shape, data, dtype };
  }
  for (const [name, weight] of options.packed ?? []) {
    tensors[name] = { shape: [weight.outFeatures, weight.inFeatures], data: await dequantizedValues(weight), dtype };
  }
  const json = llamaConfigToJson(options.config);
  json.torch_dtype = options.dtype;
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { metadata: { format: "pt" } });
  await writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(json, null, 2)}\n`);
}
