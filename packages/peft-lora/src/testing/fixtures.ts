import { fileURLToPath } from "node:url";
import { openSafetensors } from "@llamats/core";

export const TINY_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny", import.meta.url));
export const TINY_LORA_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny-lora", import.meta.url));
/** The same adapter as a torch.save'd adapter_model.bin (test-fixtures/llama1-tiny-lora-bin/make_adapter_bin.py). */
export const TINY_LORA_BIN_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny-lora-bin", import.meta.url));

export interface TinyInputs {
  inputIds: number[][];
  attentionMask: number[][];
  labels: number[][];
}

function rows(data: ArrayLike<number | bigint>, width: number): number[][] {
  const flat = Array.from(data, Number);
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/** The inputs every golden file was computed on (llama1-tiny/expected.safetensors). */
export async function readTinyInputs(): Promise<TinyInputs & { baseLogits: Float32Array; baseLoss: number }> {
  const reader = await openSafetensors(`${TINY_DIR}/expected.safetensors`);
  try {
    const ids = await reader.read("input_ids");
    const width = ids.shape[1];
    return {
      inputIds: rows(ids.data, width),
      attentionMask: rows((await reader.read("attention_mask")).data, width),
      labels: rows((await reader.read("labels")).data, width),
      baseLogits: await reader.readFloat32("logits"),
      baseLoss: (await reader.readFloat32("loss"))[0],
    };
  } finally {
    await reader.close();
  }
}

/** Every tensor of a golden safetensors file, as float32. */
export async function readAllFloat32(path: string): Promise<Map<string, Float32Array>> {
  const reader = await openSafetensors(path);
  try {
    const out = new Map<string, Float32Array>();
    for (const name of reader.names()) out.set(name, await reader.readFloat32(name));
    return out;
  } finally {
    await reader.close();
  }
}

/** Largest |a - b| over positions the attention mask keeps (padded positions are not compared). */
export function maxLogitDiff(a: Float32Array, b: Float32Array, mask: number[][], vocab: number): number {
  let max = 0;
  const seq = mask[0].length;
  mask.forEach((row, batch) =>
    row.forEach((keep, t) => {
      if (keep === 0) return;
      const start = (batch * seq + t) * vocab;
      for (let v = 0; v < vocab; v++) max = Math.max(max, Math.abs(a[start + v] - b[start + v]));
    }),
  );
  return max;
}

/** max |a - b| / max |b|: the gradient tolerance of the shared fixtures. */
export function relativeMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / (scale || 1);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}

/**
 * torch.optim.AdamW's first step (foreach=False formula), in float64: p·(1 − lr·wd) − lr/bc1 · m / (√v/√bc2 + eps).
 * A reference for the test only.
 */
export function torchAdamWFirstStep(
  param: Float32Array,
  grad: Float32Array,
  options: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number },
): Float64Array {
  const { lr, beta1, beta2, eps, weightDecay } = options;
  const out = new Float64Array(param.length);
  const bc1 = 1 - beta1;
  const bc2 = 1 - beta2;
  for (let i = 0; i < param.length; i++) {
    const m = (1 - beta1) * grad[i];
    const v = (1 - beta2) * grad[i] * grad[i];
    const decayed = param[i] * (1 - lr * weightDecay);
    out[i] = decayed - (lr / bc1) * (m / (Math.sqrt(v) / Math.sqrt(bc2) + eps));
  }
  return out;
}
