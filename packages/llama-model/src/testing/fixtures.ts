import { fileURLToPath } from "node:url";
import { openSafetensors } from "@llamats/core";

export const TINY_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny", import.meta.url));

export interface TinyExpected {
  inputIds: number[][];
  attentionMask: number[][];
  labels: number[][];
  logits: Float32Array;
  loss: number;
  greedyIds: number[];
}

function rows(data: ArrayLike<number | bigint>, width: number): number[][] {
  const flat = Array.from(data, Number);
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

/** The golden outputs transformers produced for llama1-tiny (see test-fixtures/README.md). */
export async function readTinyExpected(): Promise<TinyExpected> {
  const reader = await openSafetensors(`${TINY_DIR}/expected.safetensors`);
  try {
    const ids = await reader.read("input_ids");
    const width = ids.shape[1];
    return {
      inputIds: rows(ids.data, width),
      attentionMask: rows((await reader.read("attention_mask")).data, width),
      labels: rows((await reader.read("labels")).data, width),
      logits: await reader.readFloat32("logits"),
      loss: (await reader.readFloat32("loss"))[0],
      greedyIds: Array.from((await reader.read("greedy_ids")).data, Number),
    };
  } finally {
    await reader.close();
  }
}
