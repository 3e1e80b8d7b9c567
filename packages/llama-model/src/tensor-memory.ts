import * as tf from "@tensorflow/tfjs-core";

/** A float32 tensor's storage as the backend holds it: `array[offset ...]`, row-major. */
export interface TensorMemory {
  array: Float32Array;
  offset: number;
}

interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

interface CpuBackendLike {
  data: { get(id: object): { values?: unknown } | undefined };
}

/**
 * The memory behind a float32 tensor on wasm (its slice of the wasm heap) or cpu (its values array), so a
 * cache we own can be updated in place; null on other backends (GPU memory, native), which then concat.
 */
export function writableData(t: tf.Tensor): TensorMemory | null {
  if (t.dtype !== "float32") return null;
  const name = tf.getBackend();
  if (name === "wasm") {
    const backend = tf.backend() as unknown as WasmBackendLike;
    const info = backend.dataIdMap.get(t.dataId);
    if (!info) return null;
    return { array: new Float32Array(backend.wasm.HEAPU8.buffer), offset: info.memoryOffset / 4 };
  }
  if (name === "cpu") {
    const values = (tf.backend() as unknown as CpuBackendLike).data.get(t.dataId)?.values;
    return values instanceof Float32Array ? { array: values, offset: 0 } : null;
  }
  return null;
}
