import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { writeFileAtomic, writeSafetensors, type TensorToWrite } from "@llamats/core";
import { llamaConfigToJson, type LlamaConfig } from "./config.js";
import { chunksOf, joinedValues, parseChunkName } from "./weight-chunks.js";

export interface SavePretrainedOptions {
  /** Stored dtype of the weights (default float32). */
  dtype?: "float32" | "float16";
}

/** config.json + model.safetensors with HF names; both written atomically. */
export async function savePretrained(
  dir: string,
  options: { config: LlamaConfig; parameters: Map<string, tf.Variable>; dtype: "float32" | "float16" },
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
  const json = llamaConfigToJson(options.config);
  json.torch_dtype = options.dtype;
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { metadata: { format: "pt" } });
  await writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(json, null, 2)}\n`);
}
