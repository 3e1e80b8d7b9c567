import * as tf from "@tensorflow/tfjs-core";
import { maxBindingBytes, ValidationError } from "@llamats/core";

/** Tensors split along the vocabulary when they are too big to bind: the embedding and the output head. */
export const SPLITTABLE_PARAMETERS = ["model.embed_tokens.weight", "lm_head.weight"] as const;

/** The limit in force: the option when given, else what one kernel of the active backend can bind (WebGPU's maxStorageBufferBindingSize). */
export function resolveMaxTensorBytes(maxTensorBytes: number | undefined): number {
  if (maxTensorBytes !== undefined) {
    if (!(maxTensorBytes > 0))
      throw new ValidationError(`maxTensorBytes must be > 0, got ${maxTensorBytes}.`, { location: "maxTensorBytes" });
    return maxTensorBytes;
  }
  return maxBindingBytes();
}

/** [start, end) row ranges of near-equal size, each at most maxBytes as float32; one range when it fits. */
export function rowChunks(rows: number, cols: number, maxBytes: number): [number, number][] {
  const rowBytes = cols * 4;
  if (rows * rowBytes <= maxBytes) return [[0, rows]];
  const maxRows = Math.floor(maxBytes / rowBytes);
  if (maxRows < 1)
    throw new ValidationError(
      `maxTensorBytes ${maxBytes} is smaller than one row of the embedding/head (${rowBytes} bytes).`,
      { location: "maxTensorBytes" },
    );
  const count = Math.ceil(rows / maxRows);
  const per = Math.ceil(rows / count);
  const ranges: [number, number][] = [];
  for (let start = 0; start < rows; start += per) ranges.push([start, Math.min(rows, start + per)]);
  return ranges;
}

/** The name a row chunk goes by in namedParameters(): the HF name with its row range, e.g. `lm_head.weight[0:667]`. */
export function chunkName(name: string, [start, end]: readonly [number, number]): string {
  return `${name}[${start}:${end}]`;
}

/** The HF name and row range of a chunk name, or null for an ordinary parameter name. */
export function parseChunkName(name: string): { name: string; start: number; end: number } | null {
  const match = /^(.*)\[(\d+):(\d+)\]$/.exec(name);
  return match ? { name: match[1], start: Number(match[2]), end: Number(match[3]) } : null;
}

/** The chunk variables of one HF tensor, in row order (empty when it is not split). */
export function chunksOf(parameters: ReadonlyMap<string, tf.Variable>, name: string): tf.Variable[] {
  const found: { start: number; variable: tf.Variable }[] = [];
  for (const [key, variable] of parameters) {
    const parsed = parseChunkName(key);
    if (parsed?.name === name) found.push({ start: parsed.start, variable });
  }
  return found.sort((a, b) => a.start - b.start).map((f) => f.variable);
}

/**
 * Replaces an HF tensor bigger than maxBytes by row-chunk variables (same trainable flag) and frees it;
 * leaves the map as it is when the tensor fits or is absent.
 */
export function splitParameter(parameters: Map<string, tf.Variable>, name: string, maxBytes: number): void {
  const whole = parameters.get(name);
  if (!whole) return;
  const [rows, cols] = whole.shape as [number, number];
  const ranges = rowChunks(rows, cols, maxBytes);
  if (ranges.length === 1) return;
  for (const range of ranges) {
    const part = tf.tidy(() => tf.slice(whole, [range[0], 0], [range[1] - range[0], cols]));
    parameters.set(chunkName(name, range), tf.variable(part, whole.trainable));
    part.dispose();
  }
  parameters.delete(name);
  whole.dispose();
}

/** Float32 values of one HF tensor (rows concatenated when it is split): what savePretrained writes. */
export async function joinedValues(parts: readonly tf.Variable[]): Promise<{ shape: number[]; data: Float32Array }> {
  const cols = parts[0].shape[1]!;
  const rows = parts.reduce((sum, p) => sum + p.shape[0], 0);
  if (parts.length === 1) return { shape: [rows, cols], data: (await parts[0].data()) as Float32Array };
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const part of parts) {
    const values = (await part.data()) as Float32Array;
    data.set(values, offset);
    offset += values.length;
  }
  return { shape: [rows, cols], data };
}
