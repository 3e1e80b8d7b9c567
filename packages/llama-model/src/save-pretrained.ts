import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic, writeSafetensors, type TensorToWrite } from '@llamats/core';
import { llamaConfigToJson, type LlamaConfig } from './config.js';

export interface SavePretrainedOptions {
  /** Stored dtype of the weights (default float32). */
  dtype?: 'float32' | 'float16';
}

/** config.json + model.safetensors with HF names; both written atomically. */
export async function savePretrained(
  dir: string,
  options: { config: LlamaConfig; parameters: Map<string, tf.Variable>; dtype: 'float32' | 'float16' },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, v] of options.parameters) {
    if (name === 'lm_head.weight' && options.config.tieWordEmbeddings) continue;
    tensors[name] = { shape: [...v.shape], data: (await v.data()) as Float32Array, dtype: options.dtype === 'float16' ? 'F16' : 'F32' };
  }
  const json = llamaConfigToJson(options.config);
  json.torch_dtype = options.dtype;
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
}
